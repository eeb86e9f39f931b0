"""MDX pages (Docusaurus, Mintlify, Nextra): Markdown with ESM dropped and JSX reduced to text.

The Markdown is parsed by the same markdown-it parser as ``.md`` files, taught three MDX block
constructs: ``import``/``export`` statements (dropped), lines holding only JSX tags (dropped; the
Markdown between an opening and a closing tag is read as usual, and a component's ``title``
attribute is kept as a line) and lines holding only a ``{expression}`` (dropped).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

from retrieval.loaders.base import Parsed, decode_text, register
from retrieval.loaders.markdown import new_markdown_parser, render_markdown

ESM_START = re.compile(r"(import|export)\s")
TAG_START = re.compile(r"<(/?)([A-Za-z][\w.:-]*)?")
# A JSX attribute with a literal value: name="…", name='…' or name={"…"}.
ATTRIBUTE = re.compile(
    r"""(?<![\w-])([A-Za-z][\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|\{\s*["'`]([^"'`]*)["'`]\s*\})"""
)
TITLE_NAMES = ("title", "label")  # a component's visible name: <Accordion title>, <TabItem label>
# Components that document one parameter or field (Mintlify's <ParamField path="id" type="string">,
# <ResponseField name="id">): the name and type they are given are what the reader looks up.
FIELD_COMPONENT = re.compile(
    r"(?:field|param|parameter|prop|property|attribute|arg|option)s?$", re.I
)
FIELD_NAME = ("name", "path", "query", "body", "header", "param", "field")
CODE_INDENT = 4  # a line indented this much inside a list is that list's content, not a tag


@cache
def mdx_parser() -> MarkdownIt:
    """Return the Markdown parser with MDX's block constructs; MDX has no indented code."""
    md = new_markdown_parser()
    md.disable("code")
    alt = ["paragraph", "reference", "blockquote", "list"]
    md.block.ruler.before("table", "mdx_esm", _esm)
    md.block.ruler.before("table", "mdx_jsx", _jsx_line, {"alt": alt})
    md.block.ruler.before("table", "mdx_expression", _expression, {"alt": alt})
    return md


@register(".mdx")
def parse_mdx(data: bytes, path: Path, notes: list[str], root: Path) -> Parsed:
    """Return an MDX page's text, title and sections (github-slugger anchors, as Docusaurus)."""
    source = decode_text(data, notes)
    env: dict[str, Any] = {}
    parsed = render_markdown(source, path, notes, slug_style="github", parser=mdx_parser(), env=env)
    problem = env.get("jsx_stray") or (
        f"<{env['jsx_open'][0]}> is never closed" if env.get("jsx_open") else ""
    )
    if problem:
        notes.append(f"its JSX tags do not balance ({problem}), so their text was read as it is")
    return parsed


def _line(state: StateBlock, line: int) -> str:
    """Return the text of ``line`` without its indentation."""
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def _esm(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Drop a top-level 'import ...' or 'export ...' statement, up to the next blank line."""
    if state.level > 0 or state.sCount[start_line] > 0 or state.parentType != "root":
        return False
    if not ESM_START.match(_line(state, start_line)):
        return False
    if silent:
        return True
    next_line = start_line + 1
    while next_line < end_line and _line(state, next_line).strip():
        next_line += 1
    state.line = next_line
    return True


def _tag_end(text: str, start: int) -> int:
    """Return the index after the '>' closing the JSX tag at ``start``, or -1 if it does not close.

    Quotes and ``{...}`` expressions inside the tag may hold '>' of their own.
    """
    depth, quote = 0, ""
    for index in range(start + 1, len(text)):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'`":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        elif char == ">" and depth == 0:
            return index + 1
    return -1


def _jsx_line(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Drop lines holding only JSX tags; a component's title attribute is kept as a paragraph."""
    if state.sCount[start_line] - state.blkIndent >= CODE_INDENT:
        return False
    begin = state.bMarks[start_line] + state.tShift[start_line]
    if not TAG_START.match(state.src, begin) or state.src.startswith("<!--", begin):
        return False
    limit = state.eMarks[min(end_line, state.lineMax) - 1]
    position, titles, tags = begin, [], []
    while position < limit and TAG_START.match(state.src, position):
        end = _tag_end(state.src[:limit], position)
        if end < 0:
            return False
        tag = state.src[position:end]
        tags.append(tag)
        titles += _labels(tag)
        position = end
        while position < limit and state.src[position] in " \t":
            position += 1
    if position < limit and state.src[position] != "\n":
        return False  # text follows the tags on their line: a paragraph with inline JSX
    if silent:
        return True
    for tag in tags:
        _balance(state, tag)
    next_line = start_line
    while next_line < end_line and state.bMarks[next_line] < position:
        next_line += 1
    for title in titles:
        if title.strip():
            token = state.push("paragraph_open", "p", 1)
            token.map = [start_line, next_line]
            token = state.push("inline", "", 0)
            token.content, token.map, token.children = title, [start_line, next_line], []
            state.push("paragraph_close", "p", -1)
    state.line = next_line
    return True


def _labels(tag: str) -> list[str]:
    """Return the lines a tag shows: its title or label, or a field component's name and type."""
    found = [
        (m.group(1), next(g for g in m.groups()[1:] if g is not None))
        for m in ATTRIBUTE.finditer(tag)
    ]
    titles = [value for name, value in found if name in TITLE_NAMES]
    match = TAG_START.match(tag)
    component = match.group(2) if match and not match.group(1) else ""
    if titles or not component or not FIELD_COMPONENT.search(component):
        return titles
    values = dict(found)
    name = next((values[key] for key in FIELD_NAME if values.get(key)), "")
    if not name:
        return []
    facts = [values["type"]] if values.get("type") else []
    if re.search(r"\srequired(?:[\s/>=]|$)", tag):
        facts.append("required")
    if values.get("default"):
        facts.append(f"default {values['default']}")
    return [f"{name} ({', '.join(facts)})" if facts else name]


def _expression(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Drop a line (or lines) holding only a '{...}' expression, such as a JSX comment."""
    if state.sCount[start_line] - state.blkIndent >= CODE_INDENT:
        return False
    begin = state.bMarks[start_line] + state.tShift[start_line]
    if state.src[begin : begin + 1] != "{":
        return False
    limit = state.eMarks[min(end_line, state.lineMax) - 1]
    depth = 0
    for index in range(begin, limit):
        depth += {"{": 1, "}": -1}.get(state.src[index], 0)
        if depth == 0:
            rest_end = state.src.find("\n", index)
            rest = state.src[index + 1 : rest_end if rest_end >= 0 else limit]
            if rest.strip():
                return False
            if not silent:
                next_line = start_line
                while next_line < end_line and state.bMarks[next_line] <= index:
                    next_line += 1
                state.line = next_line
            return True
    return False


def _balance(state: StateBlock, tag: str) -> None:
    """Track open components in ``state.env``; note the first one closed without being open."""
    match = TAG_START.match(tag)
    if match is None or tag.rstrip().endswith("/>"):
        return
    closing, name = match.group(1) == "/", match.group(2) or ""
    stack: list[str] = state.env.setdefault("jsx_open", [])
    if not closing:
        stack.append(name)
    elif name in stack:
        while stack.pop() != name:
            pass
    else:
        state.env.setdefault("jsx_stray", f"</{name}> closes nothing")
