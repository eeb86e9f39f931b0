"""The package boundaries the project promises: retrieval never depends on the bot."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO_ROOT

FORBIDDEN = {"discord", "bot"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_retrieval_never_imports_discord_or_bot() -> None:
    files = sorted((REPO_ROOT / "retrieval").rglob("*.py"))
    assert files
    for path in files:
        assert not imported_roots(path) & FORBIDDEN, path


def test_only_one_module_imports_each_heavy_library() -> None:
    owners = {"sentence_transformers": "embedding.py", "chromadb": "store"}
    for path in sorted((REPO_ROOT / "retrieval").rglob("*.py")):
        for lib, owner in owners.items():
            if lib in imported_roots(path):
                assert owner in (path.name, path.parent.name), f"{path.name} imports {lib}"


def test_only_the_benchmarks_import_the_benchmark_peers() -> None:
    peers = {"langchain_chroma", "langchain_huggingface"}  # the "bench" extra
    for folder in ("retrieval", "bot", "tests"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            assert not imported_roots(path) & peers, path
