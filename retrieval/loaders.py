"""Files -> documents: text, title, source path and content hash, with scraping debris removed."""

from __future__ import annotations

import hashlib
import logging
import re
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from retrieval.errors import SeedsNotFoundError

log = logging.getLogger(__name__)

TITLE_MAX_CHARS = 200  # a first line longer than this is body text, not a title
BINARY_CONTROL_RATIO = 0.10  # share of control characters above which a text file is binary
MAX_PDF_PAGES = 5000  # pages read from one PDF; the rest are left out with a warning


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded document. ``text`` is the cleaned text; ``offsets`` maps it back to the original.

    Each offsets entry ``(clean_start, original_start, length)`` covers one kept line.
    """

    source: str
    title: str
    text: str
    content_hash: str
    url: str | None = None
    offsets: tuple[tuple[int, int, int], ...] = ()

    def original_offset(self, clean_offset: int) -> int:
        """Return the offset in the original file text for an offset into ``text``."""
        for clean_start, original_start, length in reversed(self.offsets):
            if clean_offset >= clean_start:
                return original_start + min(clean_offset - clean_start, length)
        return clean_offset


@dataclass(slots=True)
class LoadResult:
    """Documents that loaded, and one warning per file that was skipped."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class SkipFile(Exception):
    """A file cannot be used; the message says why in a few words."""


def content_hash(data: bytes) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    return hashlib.sha256(data).hexdigest()


def decode_text(data: bytes, notes: list[str] | None = None) -> str:
    """Decode text bytes as UTF-8, falling back to Windows-1252; reject binary data.

    A fallback is recorded in ``notes`` so the caller can warn about the file.
    """
    if not data.strip():
        raise SkipFile("the file is empty")
    if b"\x00" in data[:8192]:
        raise SkipFile("the file is binary, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        if notes is not None:
            notes.append("it is not UTF-8, so it was read as Windows-1252")
    controls = sum(1 for c in text[:8192] if ord(c) < 32 and c not in "\n\r\t\f")
    if controls > BINARY_CONTROL_RATIO * min(len(text), 8192):
        raise SkipFile("the file is binary, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _first_line_title(text: str, fallback: str) -> str:
    """Return the first non-empty line when it is short enough to be a title."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= TITLE_MAX_CHARS else fallback
    return fallback


def _title_from_name(path: Path) -> str:
    """Return a readable title from a file name: 'petro-meets_trump.txt' -> 'Petro meets trump'."""
    words = re.sub(r"[-_]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else path.name


def _load_html(data: bytes, path: Path, notes: list[str]) -> tuple[str, str]:
    """Return (title, text) of an HTML file, without scripts, styles and navigation."""
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
    return title or _first_line_title(text, _title_from_name(path)), text


def _load_pdf(data: bytes, path: Path, notes: list[str]) -> tuple[str, str]:
    """Return (title, text) of a PDF, one paragraph per page."""
    import io

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
    title = str(meta_title).strip() or _first_line_title(text, _title_from_name(path))
    return title, text


def _load_text(data: bytes, path: Path, notes: list[str]) -> tuple[str, str]:
    """Return (title, text) of a plain-text or Markdown file."""
    text = decode_text(data, notes)
    return _first_line_title(text, _title_from_name(path)), text


_LOADERS: dict[str, Callable[[bytes, Path, list[str]], tuple[str, str]]] = {
    ".pdf": _load_pdf,
    ".html": _load_html,
    ".htm": _load_html,
}


class Cleaner:
    """Drops scraping debris: boilerplate lines and lines with almost no letters."""

    def __init__(self, patterns: Sequence[str], min_letters: int) -> None:
        """Compile the boilerplate patterns."""
        self._patterns = [re.compile(p) for p in patterns]
        self._min_letters = min_letters

    def is_debris(self, line: str, min_letters: int | None = None) -> bool:
        """Return True for a line that carries no content (``.jpeg)``, a paywall notice)."""
        stripped = line.strip()
        if not stripped:
            return False
        letters = sum(c.isalpha() for c in stripped)
        if letters < (self._min_letters if min_letters is None else min_letters):
            return True
        if re.fullmatch(r"\S*\.(jpe?g|png|gif|webp|svg)\)?", stripped, re.IGNORECASE):
            return True
        return any(p.search(stripped) for p in self._patterns)

    def clean(self, text: str) -> tuple[str, tuple[tuple[int, int, int], ...]]:
        """Return the text without debris lines, and the offsets map back to the original."""
        kept: list[str] = []
        offsets: list[tuple[int, int, int]] = []
        clean_pos = 0
        original_pos = 0
        for line in text.splitlines(keepends=True):
            if not self.is_debris(line):
                offsets.append((clean_pos, original_pos, len(line)))
                kept.append(line)
                clean_pos += len(line)
            original_pos += len(line)
        return "".join(kept), tuple(offsets)


def load_file(path: Path, root: Path, cleaner: Cleaner, notes: list[str] | None = None) -> Document:
    """Load one file under ``root``; raise SkipFile with the reason when it cannot be used.

    Anything worth a warning that did not stop the file is appended to ``notes``.
    """
    data = path.read_bytes()
    loader = _LOADERS.get(path.suffix.lower(), _load_text)
    title, text = loader(data, path, notes if notes is not None else [])
    cleaned, offsets = cleaner.clean(text)
    if not cleaned.strip():
        raise SkipFile("the file has no text")
    if not title.strip() or cleaner.is_debris(title, min_letters=1):
        title = _first_line_title(cleaned, _title_from_name(path))
    return Document(
        source=path.relative_to(root).as_posix(),
        title=title,
        text=cleaned,
        content_hash=content_hash(data),
        offsets=offsets,
    )


def _human(size: int) -> str:
    """Return a byte count as '12.3 MB' or '900 bytes'."""
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


def within(source: str, paths: Collection[str]) -> bool:
    """Return True when a relative ``source`` is one of ``paths`` or lies in a folder of them."""
    return source in paths or any(str(parent) in paths for parent in PurePosixPath(source).parents)


def iter_files(
    root: Path, extensions: Sequence[str], max_bytes: int, only: Collection[str] | None = None
) -> Iterator[Path | str]:
    """Yield usable files under ``root`` in a stable order, or a warning string for each skip.

    Symbolic links that lead outside ``root`` are not followed. ``only`` limits the walk to
    these relative paths (files, or folders taken whole).
    """
    allowed = {e.lower() for e in extensions}
    real_root = root.resolve()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        if only is not None and not within(rel, only):
            continue
        try:
            resolved = path.resolve()
            if not resolved.is_relative_to(real_root):
                yield f"skipped {rel}: it links outside the documents folder"
                continue
            if not path.is_file():
                continue
            size = path.stat().st_size
        except OSError as exc:
            yield f"skipped {rel}: {exc.strerror or exc}"
            continue
        if path.suffix.lower() not in allowed:
            yield f"skipped {rel}: unsupported file type {path.suffix or '(none)'!r}"
        elif size > max_bytes:
            yield f"skipped {rel}: {_human(size)} is over the {_human(max_bytes)} limit"
        else:
            yield path


def load_documents(
    root: Path,
    extensions: Sequence[str],
    max_bytes: int,
    cleaner: Cleaner,
    only: Collection[str] | None = None,
) -> LoadResult:
    """Load every supported file under ``root`` (or under ``only``); bad files are skipped."""
    if not root.is_dir():
        raise SeedsNotFoundError(f"the documents folder {str(root)!r} does not exist")
    result = LoadResult()
    for item in iter_files(root, extensions, max_bytes, only):
        if isinstance(item, str):
            result.skipped.append(item)
            continue
        rel = item.relative_to(root).as_posix()
        notes: list[str] = []
        try:
            result.documents.append(load_file(item, root, cleaner, notes))
        except SkipFile as exc:
            result.skipped.append(f"skipped {rel}: {exc}")
        except RecursionError:
            result.skipped.append(f"skipped {rel}: it is nested too deeply to read")
        except (OSError, UnicodeError) as exc:
            result.skipped.append(f"skipped {rel}: {type(exc).__name__}")
        result.warnings.extend(f"{rel}: {note}" for note in notes)
    for warning in result.skipped + result.warnings:
        log.warning(warning)
    return result
