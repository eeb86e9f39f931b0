from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.document import Document
from retrieval.loaders import Cleaner, LoadResult, load_documents
from retrieval.settings import DocumentsSettings

DEFAULTS = DocumentsSettings()
CLEANER = Cleaner(DEFAULTS.boilerplate_patterns, DEFAULTS.min_line_letters)


def load_folder(root: Path) -> LoadResult:
    """Load a folder with the default settings."""
    return load_documents(root, DEFAULTS.extensions, 10**7, CLEANER)


@pytest.fixture
def load_one(tmp_path: Path):
    """Write one file and return its Document (failing if it was skipped)."""

    def load(name: str, content: str | bytes) -> Document:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        result = load_folder(tmp_path)
        assert not result.skipped, result.skipped
        [doc] = [d for d in result.documents if d.source == name]
        return doc

    return load
