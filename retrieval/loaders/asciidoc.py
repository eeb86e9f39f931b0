"""AsciiDoc (``.adoc``): titles, sections, code listings and tables, the rest as plain text.

No maintained Python parser reads Asciidoctor's syntax: asciidoc-py (the legacy toolchain) runs
shell filters and system macros and needs external programs for source blocks. So this reader
does the minimum honestly, line by line: section titles (``== Title``) open sections with
Asciidoctor's ids (``_title``, or an explicit ``[[id]]``/``[#id]``), ``----``/``....`` listings
are code, ``|===`` tables are rows, attribute entries, block attributes, comments and
preprocessor lines are dropped, and a few inline forms (cross references, links, emphasis) are
reduced to their text. Anything else stays as it is written.
"""

from __future__ import annotations

import re
from pathlib import Path

from retrieval.loaders.base import Parsed, TextBuilder, decode_text, register, title_from_name

SECTION = re.compile(r"(={1,6}|#{1,6})\s+(\S.*?)\s*=*\s*$")
EXPLICIT_ID = re.compile(r"\[\[([\w:.-]+)(?:,[^\]]*)?\]\]|\[#([\w:.-]+)[^\]]*\]")
SOURCE_LANGUAGE = re.compile(r"\[source(?:%\w+)?,\s*([\w+-]+)")
DROPPED = re.compile(
    r"(:[\w-]+!?:.*|//.*|\[[^\]]*\]|(ifdef|ifndef|ifeval|endif|include|toc|image)::.*|"
    r"[=*_+-]{4,}|\.[A-Za-z].*)"
)  # attribute entries, comments, block attributes and titles, preprocessor lines, delimiters
LISTING_DELIMITERS = ("----", "....", "```")
TABLE_DELIMITER = "|==="
INLINE = [
    (re.compile(r"<<([^,>]+),\s*([^>]+)>>"), r"\2"),  # <<id,text>> -> text
    (re.compile(r"<<([^>]+)>>"), r"\1"),  # <<id>> -> id
    (re.compile(r"\b(?:link:|xref:)?(\S+?)\[([^\]]+)\]"), r"\2"),  # url[text] -> text
    (re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])"), r"\1"),  # *strong*
    (re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])"), r"\1"),  # _emphasis_
    (re.compile(r"`\+?([^`\n]+?)\+?`"), r"\1"),  # `monospace`, `+literal+`
]


def asciidoctor_id(title: str) -> str:
    """Return Asciidoctor's automatic section id: 'Getting started' -> '_getting_started'."""
    value = re.sub(r"<[^>]+>|&\w+;", "", title.lower())
    value = re.sub(r"[^\w\s.-]", "", value)
    value = re.sub(r"[\s.-]+", "_", value.strip())
    return "_" + value.strip("_")


def inline_text(line: str) -> str:
    """Return a line with cross references, links and emphasis reduced to their text."""
    for pattern, replacement in INLINE:
        line = pattern.sub(replacement, line)
    return line


@register(".adoc", ".asciidoc")
def parse_asciidoc(data: bytes, path: Path, notes: list[str], root: Path) -> Parsed:
    """Return an AsciiDoc file's text, its '= Title' as title, and its sections."""
    source = decode_text(data, notes)
    lines = source.split("\n")
    out = TextBuilder(source)
    title = ""
    explicit_id = language = ""
    paragraph: list[str] = []
    paragraph_start = 0
    index = 0
    seen: set[str] = set()

    def flush() -> None:
        if paragraph:
            start, length = out.line_span(paragraph_start, index)
            out.add(" ".join(paragraph), start, length)
            paragraph.clear()

    while index < len(lines):
        line = lines[index].rstrip()
        stripped = line.strip()
        ids = EXPLICIT_ID.fullmatch(stripped)
        section = SECTION.fullmatch(line)
        if stripped in LISTING_DELIMITERS or stripped == TABLE_DELIMITER:
            flush()
            end = next(
                (i for i in range(index + 1, len(lines)) if lines[i].strip() == stripped),
                len(lines),
            )
            body = lines[index + 1 : end]
            start, length = out.line_span(index, end + 1)
            if stripped == TABLE_DELIMITER:
                rows = [
                    " | ".join(c.strip() for c in row.strip().strip("|").split("|")) for row in body
                ]
                out.add("\n".join(r for r in rows if r.strip(" |")), start, length, kind="table")
            else:
                out.add(f"```{language}\n" + "\n".join(body) + "\n```", start, length, kind="code")
            language, index = "", end + 1
            continue
        if ids:
            explicit_id = ids.group(1) or ids.group(2)
        elif section:
            flush()
            text = inline_text(section.group(2))
            anchor = base = explicit_id or asciidoctor_id(text)
            for number in range(2, len(seen) + 3):  # Asciidoctor numbers repeats: _a, _a_2
                if anchor not in seen:
                    break
                anchor = f"{base}_{number}"
            seen.add(anchor)
            start, length = out.line_span(index, index + 1)
            out.heading(len(section.group(1)), text, anchor, start, length)
            title = title or text
            explicit_id = ""
        elif (match := SOURCE_LANGUAGE.match(stripped)) is not None:
            language = match.group(1)
        elif not stripped or DROPPED.fullmatch(stripped):
            flush()
        else:
            if not paragraph:
                paragraph_start = index
            paragraph.append(inline_text(stripped).removesuffix(" +"))
        index += 1
    flush()
    return out.build(title or title_from_name(path))
