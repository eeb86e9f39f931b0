"""PDF files: the text of each page, one paragraph per page; its outline (bookmarks) as sections."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from retrieval.document import Section
from retrieval.loaders.base import Parsed, SkipFile, first_line_title, register, title_from_name

MAX_PDF_PAGES = 5000  # pages read from one PDF; the rest are left out with a warning
MAX_OUTLINE_ITEMS = 2000  # bookmarks read as sections; a larger outline is read this far


@register(".pdf")
def parse_pdf(data: bytes, path: Path, notes: list[str], root: Path) -> Parsed:
    """Return the text of a PDF; its metadata title, else its first line, is its title.

    Its bookmarks become sections, each starting at its title on its page (or at the page), with
    ``page=N`` as anchor: the fragment PDF viewers open at that page.
    """
    from pypdf import PdfReader

    pages: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data))
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
        for number, page in enumerate(reader.pages):
            if number == MAX_PDF_PAGES:
                notes.append(f"only its first {MAX_PDF_PAGES:,} pages were read")
                break
            pages.append((page.extract_text() or "").strip())
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds of error on damaged files
        raise SkipFile(f"the PDF cannot be read ({type(exc).__name__})") from None
    text = "\n\n".join(p for p in pages if p)
    if not text.strip():
        raise SkipFile("the PDF has no extractable text")
    title = str(meta_title).strip() or first_line_title(text, title_from_name(path))
    try:
        marks = list(_bookmarks(reader, reader.outline, 1))[:MAX_OUTLINE_ITEMS]
    except Exception:  # noqa: BLE001 - a damaged outline costs the sections, not the text
        notes.append("its bookmarks cannot be read, so it has no sections")
        marks = []
    # The extracted text is all there is of the file: offsets are into it.
    return Parsed(
        title=title,
        text=text,
        offsets=((0, 0, len(text)),),
        sections=_sections(text, pages, marks),
    )


def _bookmarks(reader: Any, outline: list[Any], level: int) -> Iterator[tuple[int, str, int]]:
    """Yield (level, title, page index) for each bookmark, in outline order."""
    for item in outline:
        if isinstance(item, list):
            yield from _bookmarks(reader, item, level + 1)
            continue
        page = reader.get_destination_page_number(item)
        name = " ".join(str(getattr(item, "title", "") or "").split())
        if name and page is not None and page >= 0:
            yield level, name, page


def _sections(
    text: str, pages: list[str], marks: list[tuple[int, str, int]]
) -> tuple[Section, ...]:
    """Return the sections the bookmarks head, each from its title on its page to the next."""
    starts, pos = [], 0
    for content in pages:  # where each page's text begins in ``text`` (empty ones left out)
        starts.append(pos)
        pos += len(content) + 2 if content else 0
    placed: list[tuple[int, tuple[str, ...], int]] = []
    stack: list[tuple[int, str]] = []
    for level, name, page in marks:
        if page >= len(pages):
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, name))
        begin = starts[page]
        floor = placed[-1][0] if placed else 0
        found = _find_title(text, name, max(begin, floor), begin + len(pages[page]))
        start = found if found is not None else max(begin, floor)
        placed.append((start, tuple(n for _, n in stack), page))
    sections = []
    for index, (start, heads, number) in enumerate(placed):
        end = placed[index + 1][0] if index + 1 < len(placed) else len(text)
        if end > start:
            sections.append(Section(heads, f"page={number + 1}", start, end))
    return tuple(sections)


def _find_title(text: str, name: str, lo: int, hi: int) -> int | None:
    """Return where the bookmark's title is printed between ``lo`` and ``hi``, if it is."""
    words = [re.escape(w) for w in name.split()]
    if not words:
        return None
    match = re.compile(r"\s+".join(words), re.IGNORECASE).search(text, lo, max(lo, hi))
    return match.start() if match else None
