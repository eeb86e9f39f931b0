"""Several processes share one `chroma run` server: two ask while a third re-indexes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrieval import KnowledgeBase
from retrieval.store import LEASE_ID
from tests.chroma_server import ChromaServer
from tests.reliability import reader_process
from tests.reliability.corpus import SETTINGS, STABLE_TOPICS, Tally, write_round

READERS = 2  # reader processes, like bot processes answering questions
ROUNDS = 4  # ingest runs by the writer while they ask
READY_TIMEOUT_S = 120.0  # model loading on a busy two-core machine is slow
FINAL = "beacon.md"
FINAL_TEXT = "# Beacon\n\nThe harbour beacon was relit on the ninth of June by the keeper.\n"
FINAL_QUESTION = "When was the harbour beacon relit?"


def test_readers_in_other_processes_see_whole_documents_and_new_ingests(
    seeds_copy: Path, tmp_path: Path, chroma_server: ChromaServer
) -> None:
    where = {"host": chroma_server.host, "port": chroma_server.port}
    write_round(seeds_copy, 1)
    writer = KnowledgeBase(seeds_dir=seeds_copy, **where, **SETTINGS)
    writer.ingest()
    stop = tmp_path / "stop.json"
    outs = [tmp_path / f"reader-{n}.json" for n in range(READERS)]
    readers = [
        reader_process.start(chroma_server.host, chroma_server.port, seeds_copy, stop, out)
        for out in outs
    ]
    try:
        for reader in readers:
            assert reader.stdout is not None
            assert reader.stdout.readline().strip() == "ready"
        for version in range(2, ROUNDS + 2):
            write_round(seeds_copy, version)
            report = writer.ingest()
            assert (report.updated, report.added) == (len(STABLE_TOPICS), 1)
        (seeds_copy / FINAL).write_text(FINAL_TEXT, encoding="utf-8")
        assert writer.ingest().added == 1
        stop.write_text(json.dumps({"source": FINAL, "question": FINAL_QUESTION}))
        for reader in readers:
            assert reader.wait(timeout=READY_TIMEOUT_S) == 0
    finally:
        stop.touch()
        for reader in readers:
            if reader.poll() is None:
                reader.kill()
                reader.wait()
    tally = Tally()
    for out in outs:
        seen = json.loads(out.read_text())
        assert seen["seen_final_after_s"] is not None, "a reader never saw the new document"
        seen.pop("seen_final_after_s")
        tally.add(Tally(**seen))
    print(f"server mode, {READERS} reader processes: {tally}")
    assert tally.questions >= READERS * len(STABLE_TOPICS)  # every reader asked during ingests
    assert tally.problems() == 0, tally.notes


def test_ingests_from_two_processes_take_turns(
    seeds_copy: Path, tmp_path: Path, chroma_server: ChromaServer
) -> None:
    kb = KnowledgeBase(seeds_dir=seeds_copy, host=chroma_server.host, port=chroma_server.port)
    kb.ingest()
    (seeds_copy / "launch.md").write_text("# Launch\n\nThe rocket launch is on March 12.\n")
    env = {
        **os.environ,
        "QABOT_STORE__HOST": chroma_server.host,
        "QABOT_STORE__PORT": str(chroma_server.port),
    }
    command = [sys.executable, "-m", "retrieval", "--seeds-dir", str(seeds_copy), "ingest"]
    with kb.store.ingest_lock():
        child = subprocess.Popen(
            [*command, "--json"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stderr is not None
        for line in child.stderr:
            if "waiting for the ingest of" in line:
                break
        else:
            raise AssertionError(f"the second ingest did not wait: {child.wait()}")
        assert child.poll() is None
    out, _ = child.communicate(timeout=READY_TIMEOUT_S)
    assert child.returncode == 0
    assert json.loads(out)["added"] == 1
    assert "launch.md" in {s.source for s in kb.sources()}


def test_a_killed_ingests_lease_expires(
    seeds_copy: Path, chroma_server: ChromaServer, caplog: pytest.LogCaptureFixture
) -> None:
    kb = KnowledgeBase(seeds_dir=seeds_copy, host=chroma_server.host, port=chroma_server.port)
    kb.store.documents_registry.collection.add(
        ids=[LEASE_ID],
        embeddings=[[1.0]],
        metadatas=[{"owner": "killed-host:4242", "expires": time.time() - 1}],
    )
    assert kb.ingest().added == 1
    assert "taking over the ingest lease of killed-host:4242" in caplog.text
    assert not kb.store.documents_registry.collection.get(ids=[LEASE_ID])["ids"]
