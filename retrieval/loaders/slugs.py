"""Heading anchors as the documentation generators make them, so links land on the section."""

from __future__ import annotations

import re
import unicodedata


def toc_slug(title: str) -> str:
    """Return the anchor Python-Markdown's toc (MkDocs) gives a heading: 'A, B!' -> 'a-b'."""
    value = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def github_slug(title: str) -> str:
    """Return the anchor github-slugger (GitHub, Docusaurus) gives a heading: 'A & B' -> 'a--b'."""
    kept = (c for c in title.lower() if c in " -_" or unicodedata.category(c)[0] in "LMN")
    return "".join(kept).replace(" ", "-")


class Slugger:
    """Makes each anchor of one page unique the way its generator does ('x', 'x_1' or 'x-1')."""

    def __init__(self, style: str = "toc") -> None:
        """Start a page; ``style`` is "toc" (MkDocs) or "github" (GitHub, Docusaurus)."""
        self._style = style
        self._seen: set[str] = set()

    def reserve(self, anchor: str) -> str:
        """Record an anchor set explicitly ({#custom-id}) and return it."""
        self._seen.add(anchor)
        return anchor

    def slug(self, title: str) -> str:
        """Return the unique anchor for a heading title."""
        base = github_slug(title) if self._style == "github" else toc_slug(title)
        anchor, count = base, 0
        while anchor in self._seen or (not anchor and self._style == "toc"):
            count += 1
            anchor = f"{base}-{count}" if self._style == "github" else f"{base}_{count}"
        self._seen.add(anchor)
        return anchor
