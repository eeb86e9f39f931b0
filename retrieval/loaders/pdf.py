"""PDF files: the text of each page, one paragraph per page."""

from __future__ import annotations

import io
from pathlib import Path

from retrieval.loaders.base import Parsed, SkipFile, first_line_title, register, title_from_name

MAX_PDF_PAGES = 5000  # pages read from one PDF; the rest are left out with a warning


@register(".pdf")
def parse_pdf(data: bytes, path: Path, notes: list[str], root: Path) -> Parsed:
    """Return the text of a PDF; its metadata title, else its first line, is its title."""
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
    # The extracted text is all there is of the file: offsets are into it.
    return Parsed(title=title, text=text, offsets=((0, 0, len(text)),))
