"""Plain text files, read as they are."""

from __future__ import annotations

from pathlib import Path

from retrieval.loaders.base import (
    Parsed,
    decode_text,
    first_line_title,
    register,
    title_from_name,
    whole_text,
)


@register(".txt")
def parse_plain(data: bytes, path: Path, notes: list[str], root: Path) -> Parsed:
    """Return a plain-text file as it is; its first line is its title."""
    text = decode_text(data, notes)
    return whole_text(first_line_title(text, title_from_name(path)), text)
