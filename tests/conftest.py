"""Fixtures shared by every test: a clean environment and a seeded knowledge base."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest

from tests.openai_double import OpenAIDouble

if TYPE_CHECKING:
    from retrieval import KnowledgeBase

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS = REPO_ROOT / "seeds"
SEED_SOURCE = "petro-trump-white-house-meeting.txt"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep the exported embedding model in a session folder, never in the repository.

    Set for the whole session, so module fixtures and their subprocesses see it too.
    """
    folder = tmp_path_factory.mktemp("model_cache")
    previous = os.environ.get("QABOT_EMBEDDING__CACHE_DIR")
    os.environ["QABOT_EMBEDDING__CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("QABOT_EMBEDDING__CACHE_DIR", None)
    else:
        os.environ["QABOT_EMBEDDING__CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, model_cache: Path) -> None:
    """Keep a developer's QABOT_* variables and tokens out; keep the model cache out of the repo."""
    for name in list(os.environ):
        if name.startswith("QABOT_") or name in {"DISCORD_TOKEN", "OPENAI_API_KEY"}:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QABOT_EMBEDDING__CACHE_DIR", str(model_cache))


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """Return a private copy of the repository's seeds folder."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


class KnowledgeBaseFactory(Protocol):
    """Builds an ingested KnowledgeBase over a private copy of the seeds plus extra documents."""

    def __call__(self, name: str, documents: Mapping[str, str] | None = None) -> KnowledgeBase:
        """Return the knowledge base; ``documents`` maps file names to their text."""


@pytest.fixture(scope="session")
def make_seeded_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBaseFactory:
    """Return a factory: ``make_seeded_kb(name, {file: text})`` ingests a private copy of the seeds.

    The extra documents are written into the copy first; each call gets its own folder and store.
    """
    from retrieval import KnowledgeBase

    def make(name: str, documents: Mapping[str, str] | None = None) -> KnowledgeBase:
        root = tmp_path_factory.mktemp(name)
        seeds = root / "seeds"
        shutil.copytree(SEEDS, seeds)
        for filename, text in (documents or {}).items():
            (seeds / filename).write_text(text, encoding="utf-8")
        kb = KnowledgeBase(seeds_dir=seeds, persist_dir=root / "chroma")
        kb.ingest()
        return kb

    return make


@pytest.fixture(scope="session")
def seed_kb(make_seeded_kb: KnowledgeBaseFactory) -> KnowledgeBase:
    """Return a KnowledgeBase over the seeds, ingested once for the whole session."""
    return make_seeded_kb("seed_kb")


@pytest.fixture
def openai_double() -> Iterator[OpenAIDouble]:
    """Yield a running OpenAI-compatible double on 127.0.0.1; stop it afterwards."""
    with OpenAIDouble() as double:
        yield double


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[object]:
    """Run a real `chroma run` server on 127.0.0.1 for one test."""
    from tests.chroma_server import ChromaServer

    server = ChromaServer(tmp_path / "chroma-server").start()
    try:
        yield server
    finally:
        server.stop()
