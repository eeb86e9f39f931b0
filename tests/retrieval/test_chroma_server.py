from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import KnowledgeBase, StoreUnavailableError
from tests.chroma_server import ChromaServer
from tests.conftest import SEED_SOURCE


def test_server_mode_ingests_answers_and_is_shared(
    seeds_copy: Path, tmp_path: Path, chroma_server: ChromaServer
) -> None:
    where = {"host": chroma_server.host, "port": chroma_server.port}
    writer = KnowledgeBase(seeds_dir=seeds_copy, persist_dir=tmp_path / "unused", **where)
    report = writer.ingest()
    assert report.added == 1 and report.chunks_total > 0
    assert not (tmp_path / "unused").exists()

    reader = KnowledgeBase(seeds_dir=seeds_copy, **where)
    answer = reader.ask("When will Petro meet Trump?")
    assert "February 3" in answer.text
    assert answer.citations[0].source == SEED_SOURCE

    (seeds_copy / "launch.md").write_text("# Launch\n\nThe rocket launch is on March 12.\n")
    assert writer.ingest().added == 1
    assert "March 12" in reader.ask("When is the rocket launch?").text
    assert writer.ingest().unchanged == 2


def test_server_down_is_store_unavailable_and_recovers(seeds_copy: Path, tmp_path: Path) -> None:
    server = ChromaServer(tmp_path / "server").start()
    try:
        kb = KnowledgeBase(seeds_dir=seeds_copy, host=server.host, port=server.port)
        kb.ingest()
        server.stop()
        with pytest.raises(StoreUnavailableError, match="unavailable"):
            kb.ask("When will Petro meet Trump?")
        server.start()
        assert "February 3" in kb.ask("When will Petro meet Trump?").text
    finally:
        server.stop()
