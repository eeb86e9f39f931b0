"""Folders -> documents: which files are read, each by its format's parser, and what is skipped."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from retrieval.document import Document
from retrieval.errors import SeedsNotFoundError
from retrieval.loaders.base import (
    SkipFile,
    content_hash,
    first_line_title,
    parser_for,
    title_from_name,
)
from retrieval.loaders.cleaning import Cleaner
from retrieval.loaders.plain import parse_plain

log = logging.getLogger(__name__)


@dataclass(slots=True)
class LoadResult:
    """Documents that loaded, and one warning per file that was skipped."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def load_file(path: Path, root: Path, cleaner: Cleaner, notes: list[str] | None = None) -> Document:
    """Load one file under ``root``; raise SkipFile with the reason when it cannot be used.

    Anything worth a warning that did not stop the file is appended to ``notes``.
    """
    data = path.read_bytes()
    parse = parser_for(path.suffix) or parse_plain
    parsed = cleaner.clean_parsed(parse(data, path, notes if notes is not None else [], root))
    if not parsed.text.strip():
        raise SkipFile("the file has no text")
    title = parsed.title
    if not title.strip() or cleaner.is_debris(title, min_letters=1):
        title = first_line_title(parsed.text, title_from_name(path))
    return Document(
        source=path.relative_to(root).as_posix(),
        title=title,
        text=parsed.text,
        content_hash=content_hash(data, parsed.included),
        offsets=parsed.offsets,
        sections=parsed.sections,
        blocks=parsed.blocks,
        meta=parsed.meta,
        includes=parsed.includes,
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
