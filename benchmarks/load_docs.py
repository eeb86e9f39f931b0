"""Load every file of the shared documentation corpora: skips, titles, sections and load time.

    .venv/bin/python benchmarks/load_docs.py [--titles] [FOLDER ...]

Without folders it reads ../shared/corpora/flask-docs/docs and ../shared/corpora/pydantic-docs/docs.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from retrieval.loaders import Cleaner, load_documents
from retrieval.settings import DocumentsSettings

REPO = Path(__file__).resolve().parents[1]
# ../shared next to the repository (a worktree sits one folder deeper).
CORPORA = next(
    (
        p / "shared" / "corpora"
        for p in (REPO.parent, REPO.parent.parent)
        if (p / "shared").is_dir()
    ),
    REPO.parent / "shared" / "corpora",
)
DEFAULT_FOLDERS = [CORPORA / "flask-docs" / "docs", CORPORA / "pydantic-docs" / "docs"]
# Signs of markup left in a title: rst directives/roles, Markdown emphasis, links, HTML, braces.
MARKUP = re.compile(r"\.\. |::|:\w+:|`|\*\*|__|\[|\]\(|<[a-z/!]|\{[#.]|^#|^!!!|^\?\?\?|^===|\|")


def measure(folder: Path, show_titles: bool) -> bool:
    """Load one folder, print its figures, and return True when it meets the bar."""
    settings = DocumentsSettings()
    cleaner = Cleaner(settings.boilerplate_patterns, settings.min_line_letters)
    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    started = time.perf_counter()
    raw_chars = sum(len(p.read_text(encoding="utf-8", errors="replace")) for p in files)
    raw_seconds = time.perf_counter() - started  # the peer: reading the files as plain text
    started = time.perf_counter()
    result = load_documents(folder, settings.extensions, int(settings.max_file_mb * 1e6), cleaner)
    seconds = time.perf_counter() - started
    marked = [d for d in result.documents if MARKUP.search(d.title)]
    sections = sum(len(d.sections) for d in result.documents)
    blocks = sum(len(d.blocks) for d in result.documents)
    chars = sum(len(d.text) for d in result.documents)
    print(
        f"{folder.parent.name}: {len(files)} files, {len(result.documents)} loaded, "
        f"{len(result.skipped)} skipped, {len(result.warnings)} warnings, "
        f"{len(marked)} titles with markup; {sections} sections, {blocks} code/table blocks, "
        f"{chars:,} characters of {raw_chars:,}; {seconds:.2f} s "
        f"({seconds / max(1, len(files)) * 1000:.1f} ms/file, "
        f"{seconds / max(raw_seconds, 1e-9):.0f}x reading them as plain text)"
    )
    for line in result.skipped + result.warnings:
        print(f"  {line}")
    for doc in marked:
        print(f"  markup in the title of {doc.source}: {doc.title!r}")
    if show_titles:
        for doc in result.documents:
            print(f"  {doc.source}: {doc.title}")
    return not result.skipped and not marked


def main() -> int:
    """Measure each folder given (or the shared corpora)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--titles", action="store_true", help="print every document's title")
    args = parser.parse_args()
    folders = args.folders or DEFAULT_FOLDERS
    if missing := [str(f) for f in folders if not f.is_dir()]:
        print(f"load_docs.py needs these documentation folders, missing: {', '.join(missing)}")
        return 2
    ok = [measure(folder, args.titles) for folder in folders]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
