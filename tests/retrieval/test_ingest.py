"""Incremental ingest: what is added, updated, relabelled and removed, and what is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from retrieval import EmbeddingMismatchError, KnowledgeBase, SeedsNotFoundError
from retrieval.chunking import Chunk
from retrieval.embedding import resolve_model
from retrieval.ingest import _sort_out
from retrieval.store import DocumentRecord
from tests.conftest import SEED_SOURCE


def test_incremental_ingest_adds_changes_and_removes(seeds_copy: Path, tmp_path: Path) -> None:
    kb = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma")
    first = kb.ingest()
    assert (first.added, first.updated, first.unchanged, first.removed) == (1, 0, 0, 0)
    assert first.chunks_total == first.chunks_added > 0
    ids_before = {s.source: s.content_hash for s in kb.sources()}

    again = kb.ingest()
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 1, 0)
    assert again.chunks_added == again.chunks_removed == 0
    assert {s.source: s.content_hash for s in kb.sources()} == ids_before

    (seeds_copy / "launch.md").write_text(
        "# Rocket launch\n\nThe Artemis rocket launch is scheduled for March 12 at dawn.\n"
    )
    added = kb.ingest()
    assert (added.added, added.unchanged) == (1, 1)
    answer = kb.ask("When is the Artemis rocket launch?")
    assert "March 12" in answer.text
    assert answer.citations[0].source == "launch.md"

    (seeds_copy / "launch.md").write_text(
        "# Rocket launch\n\nThe Artemis rocket launch was moved to April 30 at dawn.\n"
    )
    changed = kb.ingest()
    assert (changed.updated, changed.unchanged) == (1, 1)
    assert changed.chunks_removed >= 1
    answer = kb.ask("When is the Artemis rocket launch?")
    assert "April 30" in answer.text
    assert all("March 12" not in p.text for p in kb.search("Artemis launch date", k=10))

    (seeds_copy / "launch.md").unlink()
    removed = kb.ingest()
    assert removed.removed == 1
    assert [s.source for s in kb.sources()] == [SEED_SOURCE]
    assert kb.store.count() == first.chunks_total


@pytest.mark.parametrize(
    ("files", "changed", "new_text", "page", "question", "fresh", "stale"),
    [
        pytest.param(  # a watcher's run for the snippet also re-reads the page including it
            {
                "_snippets/ports.rst": "The development server listens on port 5000 by default.\n",
                "server.rst": "Development Server\n==================\n\n"
                ".. include:: _snippets/ports.rst\n",
            },
            "_snippets/ports.rst",
            "The development server listens on port 8080 by default.\n",
            "server.rst",
            "which port does the development server use",
            "8080",
            "5000",
            id="include",
        ),
        pytest.param(  # an untitled ':doc:' shows the page's title: a new title re-reads it
            {
                "installation.rst": "Installation\n============\n\nUse a virtual environment.\n",
                "quickstart.rst": "Quickstart\n==========\n\n"
                "First follow :doc:`installation`, then start the server.\n",
            },
            "installation.rst",
            "Installing Flask\n================\n\nUse a virtual environment.\n",
            "quickstart.rst",
            "first follow then start the server",
            "First follow Installing Flask, then start",
            "First follow Installation,",
            id="doc-title",
        ),
        pytest.param(  # an untitled ':ref:' shows its section's title: a new title re-reads it
            {
                "blueprints.rst": "Blueprints\n==========\n\n.. _bp-errors:\n\n"
                "Error Handlers\n--------------\n\nRegister them on the blueprint.\n",
                "quickstart.rst": "Quickstart\n==========\n\n"
                "Read :ref:`bp-errors` before the server starts.\n",
            },
            "blueprints.rst",
            "Blueprints\n==========\n\n.. _bp-errors:\n\n"
            "Handling Errors in Blueprints\n-----------------------------\n\nRegister them.\n",
            "quickstart.rst",
            "read before the server starts",
            "Read Handling Errors in Blueprints before",
            "Read Error Handlers before",
            id="ref-title",
        ),
    ],
)
def test_a_changed_file_reindexes_the_pages_that_show_its_text(
    tmp_path: Path,
    files: dict[str, str],
    changed: str,
    new_text: str,
    page: str,
    question: str,
    fresh: str,
    stale: str,
) -> None:
    """A run for one file also re-reads the pages that include it or show its title."""
    docs = tmp_path / "seeds" / "docs"
    for name, text in files.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text)
    kb = KnowledgeBase(seeds_dir=tmp_path / "seeds", persist_dir=tmp_path / "chroma")
    kb.ingest()
    assert kb.store.documents()[f"docs/{page}"].includes == (f"docs/{changed}",)

    (docs / changed).write_text(new_text)
    report = kb.ingest(only=[f"docs/{changed}"])
    assert report.updated == 2  # the changed file and the page that shows its text
    texts = [
        " ".join(p.text.split()) for p in kb.search(question, k=5) if p.source == f"docs/{page}"
    ]
    assert texts and fresh in texts[0] and stale not in texts[0]


def test_documents_with_headings_are_chunked_at_the_section_size(tmp_path: Path) -> None:
    """A section of 700 characters is one chunk; the same text without headings is several."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    sentences = " ".join(f"Step {n} of the upgrade keeps every setting." for n in range(16))
    (seeds / "upgrade.md").write_text(f"# Upgrading\n\n{sentences}\n")
    (seeds / "upgrade.txt").write_text(f"{sentences}\n")
    kb = KnowledgeBase(
        seeds_dir=seeds,
        persist_dir=tmp_path / "chroma",
        chunk_size=200,
        chunk_overlap=20,
        section_chunk_size=1000,
        section_chunk_overlap=100,
    )
    kb.ingest()
    chunks = {s.source: s.chunks for s in kb.sources()}
    assert chunks["upgrade.md"] == 1
    assert chunks["upgrade.txt"] >= 4


def test_bad_files_do_not_stop_the_good_ones(seeds_copy: Path, tmp_path: Path) -> None:
    (seeds_copy / "empty.txt").write_bytes(b"")
    (seeds_copy / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (seeds_copy / "notes.docx").write_bytes(b"PK")
    kb = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma")
    report = kb.ingest()
    assert report.added == 1
    assert report.skipped == 3
    assert len(report.warnings) == 3
    assert not kb.ask("When will Petro meet Trump?").abstained


def test_missing_seeds_folder_leaves_the_index_alone(seeds_copy: Path, tmp_path: Path) -> None:
    kb = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma")
    total = kb.ingest().chunks_total
    shutil.rmtree(seeds_copy)
    with pytest.raises(SeedsNotFoundError, match="does not exist"):
        kb.ingest()
    assert kb.store.count() == total


def test_opening_with_another_model_says_to_reingest(seeds_copy: Path, tmp_path: Path) -> None:
    KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma").ingest()
    other = KnowledgeBase(
        seeds_dir=seeds_copy,
        persist_dir=tmp_path / "chroma",
        model=resolve_model("all-MiniLM-L6-v2"),  # same weights under another name
    )
    with pytest.raises(EmbeddingMismatchError, match="re-ingest"):
        other.sources()
    report = other.ingest(rebuild=True)
    assert report.added == 1
    assert other.sources()[0].source == SEED_SOURCE


def chunk(**changes: object) -> Chunk:
    """Return a hand-made chunk, with ``changes`` to its fields."""
    fields: dict[str, object] = {
        "chunk_id": "c1",
        "text": "Privileged intents need approval.",
        "source": "intents.md",
        "title": "Intents",
        "chunk": 0,
        "start": 0,
        "end": 33,
        "content_hash": "h",
    }
    return Chunk(**(fields | changes))  # type: ignore[arg-type]


def test_stored_chunks_keep_their_vector_unless_their_embedded_text_changed() -> None:
    plain, linked = chunk(), chunk(url="https://example.org/intents")
    assert _sort_out([plain], {}) == ([plain], [])  # new: embedded
    assert _sort_out([plain], {"c1": plain}) == ([], [])  # unchanged: nothing to write
    assert _sort_out([linked], {"c1": plain}) == ([], [linked])  # a new link: relabelled
    assert _sort_out([plain], {"c1": linked}) == ([plain], [])  # a key cannot be removed
    renamed = chunk(title="Gateway intents")
    assert _sort_out([renamed], {"c1": plain}) == ([renamed], [])  # the title is embedded


def test_an_outdated_record_of_an_unchanged_document_is_rewritten_without_embedding(
    seeds_copy: Path, tmp_path: Path
) -> None:
    kb = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "chroma")
    kb.ingest()
    (record,) = kb.store.documents().values()
    kb.store.register(
        [DocumentRecord(record.source, record.content_hash, record.chunk_ids, "Old title")]
    )
    report = kb.ingest()
    assert (report.unchanged, report.chunks_added, report.chunks_removed) == (1, 0, 0)
    assert kb.store.documents() == {record.source: record}
    assert kb.sources()[0].title == record.title
