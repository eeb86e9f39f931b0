"""Published addresses: a folder of the documents mapped to a website, a section to its link.

>>> from retrieval.settings import SiteSettings
>>> sites = SiteMap([SiteSettings(folder="docs", base="https://example.org/", style="sphinx")])
>>> section_url(sites.page_url("docs/intents.rst"), "privileged-intents")
'https://example.org/intents.html#privileged-intents'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import PurePosixPath
from urllib.parse import quote, urljoin

from retrieval.document import Document
from retrieval.settings import SiteSettings, SiteStyle

# Pages that a site serves at their folder's address rather than under their own name.
INDEX_NAMES: dict[SiteStyle, frozenset[str]] = {
    "sphinx": frozenset(),  # index.rst is built as index.html, its real address
    "sphinx-dirhtml": frozenset({"index"}),
    "mkdocs": frozenset({"index", "readme"}),
    "docusaurus": frozenset({"index", "readme"}),
    "plain": frozenset(),
}
# Docusaurus orders files by a number prefix ("01-intro.md") and leaves it out of the address.
NUMBER_PREFIX = re.compile(r"^\d+[-_.]")


def _segments(parts: Sequence[str]) -> str:
    """Return path segments joined by '/', each percent-encoded as a browser would send it."""
    return "/".join(quote(part, safe="") for part in parts if part)


def page_path(relative: str, style: SiteStyle, slug: str = "") -> str:
    """Return the address of a page relative to its site's base, from the file's path in the folder.

    ``slug`` (front matter) replaces the file's own path: from the base when it starts with "/",
    else from the file's folder.

    >>> page_path("concepts/models.md", "mkdocs")
    'concepts/models/'
    >>> page_path("concepts/index.md", "mkdocs")
    'concepts/'
    """
    path = PurePosixPath(relative)
    if style == "plain" and not slug:
        return _segments(path.parts)
    folders = list(path.parent.parts) if str(path.parent) != "." else []
    if style == "docusaurus":
        folders = [NUMBER_PREFIX.sub("", part) for part in folders]
    if slug:
        parts = slug.strip("/").split("/")
        parts = parts if slug.startswith("/") else folders + parts
        is_index = False
    else:
        name = NUMBER_PREFIX.sub("", path.stem) if style == "docusaurus" else path.stem
        # Docusaurus also serves a page named after its folder (guides/guides.md) as the folder.
        is_index = name.lower() in INDEX_NAMES[style] or (
            style == "docusaurus" and bool(folders) and name == folders[-1]
        )
        parts = folders if is_index else [*folders, name]
    joined = _segments(parts)
    if style == "sphinx":
        return f"{joined}.html" if joined else "index.html"
    if style in ("sphinx-dirhtml", "mkdocs"):
        return f"{joined}/" if joined else ""
    return joined  # docusaurus and a plain slug: no suffix, no trailing slash


def section_url(page: str | None, anchor: str) -> str | None:
    """Return the address of a section: the page's address with the anchor as its fragment."""
    if not page:
        return None
    page = page.split("#", 1)[0]
    return f"{page}#{quote(anchor, safe='-._~')}" if anchor else page


class SiteMap:
    """Finds the published address of a document's page from the ``[documents] sites`` setting."""

    def __init__(self, sites: Sequence[SiteSettings] = ()) -> None:
        """Keep the sites, the deepest folder first so that it wins over its parents."""
        self._sites = sorted(sites, key=lambda site: len(site.folder), reverse=True)

    def site_for(self, source: str) -> SiteSettings | None:
        """Return the site whose folder holds ``source`` (a path inside the documents folder)."""
        for site in self._sites:
            if not site.folder or source.startswith(f"{site.folder}/"):
                return site
        return None

    def page_url(
        self, source: str, meta: Mapping[str, str] | None = None, fallback: str | None = None
    ) -> str | None:
        """Return a page's address: front matter ``url``, the site's path rule, or ``fallback``.

        A relative front matter ``url`` is read from the site's base.
        """
        meta = meta or {}
        url = meta.get("url", "").strip()
        if url.startswith(("http://", "https://")):
            return url
        site = self.site_for(source)
        if site is None:
            return fallback
        if url:
            return urljoin(site.base, url.lstrip("/"))
        relative = source[len(site.folder) :].lstrip("/")
        return site.base + page_path(relative, site.style, meta.get("slug", "").strip())

    def locate(self, document: Document) -> Document:
        """Return the document with ``url`` set to its page's published address, when it has one."""
        url = self.page_url(document.source, document.meta, document.url)
        return document if url == document.url else replace(document, url=url)
