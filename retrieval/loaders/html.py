"""HTML pages through Beautiful Soup: the main content only, its headings kept as sections.

Navigation, sidebars, headers, footers, scripts and forms are removed; the content is the page's
``<main>``, ``<article>`` or ``role="main"`` element, else its body.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from retrieval.loaders.base import (
    Parsed,
    SkipFile,
    TextBuilder,
    decode_text,
    register,
    title_from_name,
)
from retrieval.loaders.slugs import Slugger

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

CHROME = ["script", "style", "noscript", "template", "nav", "footer", "header", "aside", "form"]
CHROME_ROLES = ["navigation", "banner", "contentinfo", "complementary", "search"]
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Elements that hold blocks of their own; anything else is inline text of its block.
BLOCKS = {
    "address", "article", "blockquote", "body", "dd", "details", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "li", "main", "ol", "p", "section", "summary", "ul", "html", "center",
}  # fmt: skip
PERMALINK_CLASSES = {"headerlink", "anchor-link", "hash-link", "headerlink-anchor"}
# A site template (a theme's overrides/main.html) is not a page: Jinja tags outside code say so.
TEMPLATE_TAG = re.compile(r"\{%-?\s*[a-z]+\b.*?%\}|\{\{.*?\}\}", re.S)
MAIN_SHARE = 0.2  # a main element with less of the page's text than this is not its content


@register(".html", ".htm")
def parse_html(data: bytes, path: Path, notes: list[str], root: Path) -> Parsed:
    """Return a page's main content; its first <h1>, else its <title>, is its title."""
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

    source = decode_text(data, notes)
    with warnings.catch_warnings():  # a page holding only a URL is still a page
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(source, "html.parser")
    if _is_template(soup):
        raise SkipFile("it is a site template (Jinja tags), not a page")
    page_title = " ".join(soup.title.get_text(" ").split()) if soup.title else ""
    for tag in soup(CHROME):
        tag.decompose()
    for tag in soup.find_all(None, {"role": CHROME_ROLES}):
        tag.decompose()
    for tag in soup.find_all("a", class_=lambda c: c in PERMALINK_CLASSES):
        tag.decompose()
    if soup.title:
        soup.title.decompose()
    writer = _Writer(TextBuilder(source))
    writer.walk(_main(soup))
    title = writer.first_h1 or page_title or writer.first_heading or title_from_name(path)
    return writer.out.build(title)


def _is_template(soup: BeautifulSoup) -> bool:
    """Say whether the markup outside code and scripts holds template tags or expressions."""
    quoted = ("pre", "code", "script", "style", "textarea")
    outside = (s for s in soup.find_all(string=True) if not s.find_parent(quoted))
    return any(TEMPLATE_TAG.search(text) for text in outside)


def _main(soup: BeautifulSoup) -> Tag:
    """Return the element that holds the page's content."""
    body: Tag = soup.body or soup
    total = len(body.get_text(" ", strip=True))
    for found in (soup.find(None, {"role": "main"}), soup.find("main"), soup.find("article")):
        if found is not None and len(found.get_text(" ", strip=True)) >= MAIN_SHARE * total:
            return found
    return body


class _Writer:
    """Writes the blocks of an element tree into a TextBuilder."""

    def __init__(self, out: TextBuilder) -> None:
        """Write into ``out``."""
        self.out = out
        self.first_h1 = ""
        self.first_heading = ""
        self._slugger = Slugger("toc")
        self._pending: list[str] = []
        self._line = 1

    def walk(self, element: Tag) -> None:
        """Write the blocks under ``element``."""
        from bs4.element import Comment, Doctype, NavigableString, ProcessingInstruction, Tag

        for child in element.children:
            if isinstance(child, Comment | Doctype | ProcessingInstruction):
                continue
            if isinstance(child, NavigableString):
                self._pending.append(str(child))
            elif isinstance(child, Tag):
                self._tag(child)
        self._flush()

    def _tag(self, tag: Tag) -> None:
        """Write one element: a heading, code, a table, a block or inline text."""
        name = tag.name
        self._line = tag.sourceline or self._line
        if name in HEADINGS:
            self._flush()
            self._heading(tag, HEADINGS[name])
        elif name == "pre":
            self._flush()
            code = tag.get_text()
            if code.strip():
                self._add(f"```\n{code.strip(chr(10))}\n```", kind="code")
        elif name == "table":
            self._flush()
            self._table(tag)
        elif name == "br":
            self._pending.append("\n")
        elif name in BLOCKS:
            self._flush()
            if name == "li":
                self._pending.append("- ")
            self.walk(tag)
        else:
            self._pending.append(tag.get_text(" "))

    def _flush(self) -> None:
        """Write the inline text gathered so far as one paragraph."""
        text = " ".join("".join(self._pending).split())
        self._pending = []
        if text and text != "-":
            self._add(text)

    def _add(self, text: str, kind: str | None = None) -> None:
        """Append a block mapped to the source line it started on."""
        start, length = self.out.line_span(self._line - 1, self._line)
        self.out.add(text, start, length, kind="code" if kind == "code" else None)

    def _heading(self, tag: Tag, level: int) -> None:
        """Open a section; its anchor is the heading's id, or its section's, or a slug."""
        title = " ".join(tag.get_text(" ").split())
        if not title:
            return
        anchor = tag.get("id") or _parent_id(tag) or self._slugger.slug(title)
        start, length = self.out.line_span(self._line - 1, self._line)
        self.out.heading(level, title, str(anchor), start, length)
        self.first_heading = self.first_heading or title
        if level == 1 and not self.first_h1:
            self.first_h1 = title

    def _table(self, table: Tag) -> None:
        """Write a table as one row per line, cells joined by ' | '."""
        rows = []
        for row in _rows(table):
            cells = [" ".join(c.get_text(" ").split()) for c in row.find_all(["th", "td"])]
            if any(cells):
                rows.append(" | ".join(cells))
        if rows:
            start, length = self.out.line_span(self._line - 1, self._line)
            self.out.add("\n".join(rows), start, length, kind="table")


def _rows(table: Tag) -> Iterator[Tag]:
    """Yield a table's own rows, not those of tables nested in it."""
    for row in table.find_all("tr"):
        if row.find_parent("table") is table:
            yield row


def _parent_id(tag: Tag) -> str:
    """Return the id of the <section> a heading opens (Sphinx puts it there), or ''."""
    parent = tag.parent
    if parent is not None and parent.name == "section":
        first = next((c for c in parent.children if getattr(c, "name", None)), None)
        if first is tag:
            return str(parent.get("id") or "")
    return ""
