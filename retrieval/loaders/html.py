"""HTML pages: their text without scripts, styles and navigation."""

from __future__ import annotations

import warnings
from pathlib import Path

from retrieval.loaders.base import (
    Parsed,
    decode_text,
    first_line_title,
    register,
    title_from_name,
    whole_text,
)


@register(".html", ".htm")
def parse_html(data: bytes, path: Path, notes: list[str]) -> Parsed:
    """Return the text of an HTML page; its <title>, else its first heading, is its title."""
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

    with warnings.catch_warnings():  # a page holding only a URL is still a page
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(decode_text(data, notes), "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header", "aside", "form"]):
        tag.decompose()
    heading = soup.find(["h1", "h2"])
    title = (soup.title.get_text(" ", strip=True) if soup.title else "") or (
        heading.get_text(" ", strip=True) if heading else ""
    )
    if soup.title:
        soup.title.decompose()
    body = soup.body or soup
    blocks = [" ".join(s.split()) for s in body.get_text("\n").split("\n")]
    text = "\n".join(b for b in blocks if b)
    return whole_text(title or first_line_title(text, title_from_name(path)), text)
