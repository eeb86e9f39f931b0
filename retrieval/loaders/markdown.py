"""Markdown (CommonMark, GFM tables, MkDocs extras, MyST) through markdown-it, with its sections."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from retrieval.document import BlockKind
from retrieval.loaders.base import (
    Parsed,
    TextBuilder,
    decode_text,
    pieces,
    register,
    title_from_name,
)
from retrieval.loaders.markdown_extras import mkdocs_plugin
from retrieval.loaders.myst import myst_plugin
from retrieval.loaders.roles import role_text
from retrieval.loaders.rst import rst_pieces
from retrieval.loaders.rst_files import FileContext, Refused, language_of, select_lines
from retrieval.loaders.slugs import Slugger

# '## Title {#custom-id}' (Python-Markdown attr_list, Docusaurus): the id wins over the slug.
HEADING_ID = re.compile(r"\s*\{\s*#([\w:.-]+)[^}]*\}\s*$")
# A trailing '{ #id .class key="value" }' (attr_list) belongs to the block, not its text.
ATTR_LIST = re.compile(
    r"\s*\{:?\s*(?:[#.][\w:-]+|[\w-]+=(?:\"[^\"]*\"|'[^']*'|[^\s}]+))"
    r"(?:\s+(?:[#.][\w:-]+|[\w-]+=(?:\"[^\"]*\"|'[^']*'|[^\s}]+)))*\s*\}\s*$"
)
MACRO = re.compile(r"\{\{.*\}\}|\{%.*%\}")  # mkdocs-macros placeholders: generated, not text
MAX_INCLUDE_DEPTH = 8  # files a MyST include may bring in through one another
META_KEYS = ("title", "description", "url", "slug")  # front matter kept in Document.meta


@cache
def markdown_parser() -> MarkdownIt:
    """Return the shared parser: CommonMark, tables, front matter and the MkDocs extensions."""
    return new_markdown_parser()


def new_markdown_parser() -> MarkdownIt:
    """Return a new parser: CommonMark, tables, front matter and the MkDocs extensions."""
    from mdit_py_plugins.attrs import attrs_plugin
    from mdit_py_plugins.deflist import deflist_plugin
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.front_matter import front_matter_plugin

    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    for plugin in (front_matter_plugin, footnote_plugin, deflist_plugin):
        md.use(plugin)
    md.use(attrs_plugin)  # '[](){#anchor}' and '`x`{.class}' leave no braces in the text
    md.use(mkdocs_plugin)
    md.use(myst_plugin)  # after mkdocs: '::: package.module' stays an autodoc block
    return md


@register(".md", ".markdown")
def parse_markdown(data: bytes, path: Path, notes: list[str], root: Path) -> Parsed:
    """Return a Markdown file's text, title and sections (MkDocs anchors).

    MyST ``{include}`` and ``{literalinclude}`` read files of the same documents folder only.
    """
    files = FileContext.of(path, root)
    source = decode_text(data, notes)
    parsed = render_markdown(source, path, notes, slug_style="toc", env={"files": files})
    notes.extend(files.notes)
    return parsed


def render_markdown(
    source: str,
    path: Path,
    notes: list[str],
    slug_style: str,
    parser: MarkdownIt | None = None,
    env: dict[str, Any] | None = None,
) -> Parsed:
    """Render Markdown ``source`` to clean text; ``slug_style`` names the site's anchor rule.

    ``env`` is handed to the parser's rules, which may leave findings in it.
    """
    env = env if env is not None else {}
    tokens = (parser or markdown_parser()).parse(source, env)
    builder = TextBuilder(source)
    meta: dict[str, str] = {}
    first_h1 = _Renderer(builder, Slugger(slug_style), meta, notes, env).render(tokens)
    title = meta.get("title") or first_h1 or title_from_name(path)
    files = env.get("files")
    if not isinstance(files, FileContext):
        return builder.build(title, meta)
    return builder.build(title, meta, files.included, files.included_paths)


class _Renderer:
    """Walks markdown-it's token stream once, writing blocks into a TextBuilder."""

    def __init__(
        self,
        builder: TextBuilder,
        slugger: Slugger,
        meta: dict[str, str],
        notes: list[str],
        env: dict[str, Any] | None = None,
    ) -> None:
        """Write into ``builder``; front matter goes to ``meta``, problems to ``notes``.

        ``env`` is the parse's: its ``files`` (a FileContext) reads what MyST includes.
        """
        self._env = env or {}
        self._out = builder
        self._slugger = slugger
        self._meta = meta
        self._notes = notes
        self._lists: list[list[int]] = []  # per open list: [next number] or [] for bullets
        self._marker = ""
        self._heading: Token | None = None
        self._rows: list[str] | None = None
        self._cells: list[str] = []
        self._table_map: Sequence[int] = (0, 0)
        self._first_h1 = ""

    def render(self, tokens: Sequence[Token]) -> str:
        """Render every token; return the first level-1 heading's title."""
        for token in tokens:
            self._token(token)
        return self._first_h1

    def _span(self, token: Token) -> tuple[int, int]:
        """Return (start, length) in the source of the lines a token came from."""
        first, end = token.map if token.map else (0, 0)
        return self._out.line_span(first, end)

    def _token(self, token: Token) -> None:
        """Handle one block-level token."""
        kind = token.type
        if kind == "front_matter":
            self._front_matter(token.content)
        elif kind == "heading_open":
            self._heading = token
        elif kind == "inline":
            self._inline(token)
        elif kind in ("fence", "code_block"):
            fence = f"```{token.info.split()[0] if token.info.strip() else ''}"
            code = token.content if token.content.endswith("\n") else token.content + "\n"
            self._out.add(f"{fence}\n{code}```", *self._span(token), kind="code")
        elif kind == "myst_rst":
            self._rst(token)
        elif kind == "myst_include":
            self._include(token)
        elif kind == "html_block":
            self._out.add(html_text(token.content), *self._span(token))
        elif kind in ("bullet_list_open", "ordered_list_open"):
            start = token.attrGet("start")
            self._lists.append([int(start) if start else 1] if kind[0] == "o" else [])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self._lists.pop()
        elif kind == "list_item_open":
            self._list_item()
        elif kind == "table_open":
            self._rows, self._table_map = [], token.map or (0, 0)
        elif kind == "tr_open":
            self._cells = []
        elif kind == "tr_close" and self._rows is not None:
            self._rows.append(" | ".join(self._cells))
        elif kind == "table_close" and self._rows is not None:
            start, length = self._out.line_span(*self._table_map)
            self._out.add("\n".join(self._rows), start, length, kind="table")
            self._rows = None

    def _rst(self, token: Token) -> None:
        """Write the text of an ``{eval-rst}`` body, placed at its fence (none of it verbatim)."""
        start, _ = self._span(token)
        for text, kind in self._rst_pieces(token.content, "an {eval-rst} block"):
            self._out.add(text, start, 0, kind=kind)

    def _rst_pieces(self, source: str, what: str) -> list[tuple[str, BlockKind | None]]:
        """Return rst text as pieces, or as it is with a note when docutils cannot parse it."""
        try:
            return rst_pieces(source)
        except Exception:  # noqa: BLE001 - docutils has many failure modes on broken markup
            self._notes.append(f"{what} cannot be parsed as rst, so it is read as plain text")
            return [(source, None)]

    def _include(self, token: Token) -> None:
        """Write the file a MyST include names, placed at its fence (none of it verbatim)."""
        files: FileContext = self._env["files"]
        chain: tuple[Path, ...] = self._env.get("chain", (files.path,))
        name, options = token.content, dict(token.meta.get("options", {}))
        found: list[tuple[str, BlockKind | None]] = []
        try:
            path = files.resolve(name, chain[-1])
            if path in chain or len(chain) > MAX_INCLUDE_DEPTH:
                raise Refused("it would include itself in a circle")
            text = files.read(path)
            if token.info == "literalinclude" or "literal" in options or "code" in options:
                code, cut = select_lines(text, options)
                if cut:
                    files.notes.append(f"its {token.info} of {name!r} shows {cut}")
                language = options.get("code") or language_of(path, options)
                if code.strip():
                    found = [(f"```{language}\n{code}\n```", "code")]
            else:
                found = self._included_text(path, _between(text, options), chain)
        except Refused as exc:
            files.warn(token.info, name, str(exc))
            return
        start, _ = self._span(token)
        for piece, kind in found:
            self._out.add(piece, start, 0, kind=kind)

    def _included_text(
        self, path: Path, text: str, chain: tuple[Path, ...]
    ) -> list[tuple[str, BlockKind | None]]:
        """Return the pieces of an included Markdown, rst or plain text file."""
        if path.suffix.lower() in (".md", ".markdown"):
            env = {"files": self._env["files"], "chain": (*chain, path)}
            return pieces(render_markdown(text, path, self._notes, "toc", env=env))
        if path.suffix.lower() in (".rst", ".rest"):
            return self._rst_pieces(text, f"its include of {path.name!r}")
        return [(text, None)]

    def _list_item(self) -> None:
        """Set the marker of the item's first paragraph: '- ' or '3. ', indented by depth."""
        if not self._lists:
            return
        numbers = self._lists[-1]
        indent = "  " * (len(self._lists) - 1)
        if numbers:
            self._marker = f"{indent}{numbers[0]}. "
            numbers[0] += 1
        else:
            self._marker = f"{indent}- "

    def _inline(self, token: Token) -> None:
        """Write a paragraph, a heading or a table cell."""
        text = inline_text(token.children or [])
        if self._rows is not None:
            self._cells.append(" ".join(text.split()))
        elif self._heading is not None:
            self._heading_line(self._heading, text)
            self._heading = None
        else:
            text = ATTR_LIST.sub("", text).strip()
            if not MACRO.fullmatch(text):
                self._out.add(self._marker + text, *self._span(token))
            self._marker = ""

    def _heading_line(self, opening: Token, text: str) -> None:
        """Open a section; a '{#id}' after the title is its anchor."""
        level = int(opening.tag[1:]) if opening.tag[1:].isdigit() else 1
        custom = HEADING_ID.search(text)
        title = " ".join(text[: custom.start()].split() if custom else text.split())
        anchor = self._slugger.reserve(custom.group(1)) if custom else self._slugger.slug(title)
        if level == 1 and not self._first_h1:
            self._first_h1 = title
        self._out.heading(level, title, anchor, *self._span(opening))

    def _front_matter(self, content: str) -> None:
        """Keep the front matter's title, description, url and slug as meta."""
        import yaml

        try:
            values = yaml.safe_load(content)
        except yaml.YAMLError:
            self._notes.append("its front matter is not valid YAML, so it was left out")
            return
        if isinstance(values, dict):
            for key in META_KEYS:
                value = values.get(key)
                if isinstance(value, str | int | float) and str(value).strip():
                    self._meta[key] = " ".join(str(value).split())


def _between(text: str, options: dict[str, str]) -> str:
    """Return the part of an included file its ``start-after`` and ``end-before`` select."""
    if options.get("start-after"):
        _, found, tail = text.partition(options["start-after"])
        if not found:
            raise Refused("no line holds its start-after text")
        text = tail
    if options.get("end-before"):
        text = text.partition(options["end-before"])[0]
    return text


def inline_text(children: Sequence[Token]) -> str:
    """Return the visible text of inline tokens: no emphasis marks, links as their text."""
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "myst_role":
            parts.append(role_text(child.meta.get("name", ""), child.content))
        elif child.type == "image":
            parts.append(inline_text(child.children or []))
    return "".join(parts)


def html_text(markup: str) -> str:
    """Return the text of an HTML fragment inside Markdown, comments and scripts left out."""
    from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    lines = [" ".join(line.split()) for line in soup.get_text("\n").split("\n")]
    if soup.find(None, {"markdown": True}) is not None:  # md_in_html: the content is Markdown
        lines = [_inline_markdown(line) for line in lines]
    return "\n".join(line for line in lines if line)


def _inline_markdown(line: str) -> str:
    """Return the visible text of one line of inline Markdown."""
    tokens = markdown_parser().parseInline(line)
    return ATTR_LIST.sub("", inline_text(tokens[0].children or [] if tokens else [])).strip()
