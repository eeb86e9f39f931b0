"""The documents watcher: real files, the real watcher, the real model and Chroma."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from retrieval import DocumentWatcher, IngestReport, KnowledgeBase
from tests.chroma_server import ChromaServer
from tests.conftest import REPO_ROOT
from tests.reliability import corpus

WAIT_S = 30.0  # generous: the machine is shared; nothing here is a timing claim
POLL_S = 0.05


def wait_for(check: Callable[[], bool], what: str) -> None:
    """Poll ``check`` until it holds, failing after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(POLL_S)


def sources(kb: KnowledgeBase) -> set[str]:
    """Return the sources the knowledge base lists."""
    return {s.source for s in kb.sources()}


def found(kb: KnowledgeBase, question: str) -> set[str]:
    """Return the sources of the passages a search returns."""
    return {p.source for p in kb.search(question)}


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[KnowledgeBase, DocumentWatcher, Path]]:
    """Yield an ingested knowledge base over a small folder, with its watcher running."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "orchard.md").write_text(
        "# The orchard\n\nThe orchard of Zell grows seven kinds of apples.\n", encoding="utf-8"
    )
    kb = KnowledgeBase(seeds_dir=seeds, persist_dir=tmp_path / "chroma")
    kb.ingest()
    with DocumentWatcher(kb, debounce_s=0.2) as watcher:
        yield kb, watcher, seeds


def test_a_written_deleted_and_renamed_file_is_reflected(
    watched: tuple[KnowledgeBase, DocumentWatcher, Path],
) -> None:
    kb, _, seeds = watched
    question = "Who keeps the bananas in the harbour?"
    assert "harbour.md" not in found(kb, question)

    (seeds / "harbour.md").write_text(
        "# The harbour\n\nThe bananas in the harbour are kept by Quorbl the keeper.\n",
        encoding="utf-8",
    )
    wait_for(lambda: "harbour.md" in found(kb, question), "the new file in search results")
    assert "Quorbl" in kb.ask(question).text

    (seeds / "docks").mkdir()
    (seeds / "harbour.md").rename(seeds / "docks" / "harbour.md")
    wait_for(lambda: sources(kb) == {"orchard.md", "docks/harbour.md"}, "the renamed file")
    assert "docks/harbour.md" in found(kb, question)

    (seeds / "docks" / "harbour.md").unlink()
    wait_for(lambda: sources(kb) == {"orchard.md"}, "the deleted file to go")
    assert "docks/harbour.md" not in found(kb, question)


def test_a_renamed_folder_moves_its_documents(
    watched: tuple[KnowledgeBase, DocumentWatcher, Path],
) -> None:
    kb, _, seeds = watched
    (seeds / "guide").mkdir()
    for n in range(3):
        (seeds / "guide" / f"page-{n}.md").write_text(f"# Page {n}\n\nPage {n} of the guide.\n")
    wait_for(lambda: len(sources(kb)) == 4, "the guide's pages")
    (seeds / "guide").rename(seeds / "manual")
    wanted = {"orchard.md"} | {f"manual/page-{n}.md" for n in range(3)}
    wait_for(lambda: sources(kb) == wanted, "the pages under the folder's new name")


def test_a_burst_of_changes_becomes_few_ingests(
    watched: tuple[KnowledgeBase, DocumentWatcher, Path],
) -> None:
    kb, watcher, seeds = watched
    before = watcher.ingests
    for n in range(200):  # like a git pull touching 200 files
        (seeds / f"note-{n:03d}.md").write_text(f"# Note {n}\n\nNote number {n} of the pull.\n")
    wait_for(lambda: len(sources(kb)) == 201, "all 200 notes")
    assert watcher.ingests - before <= 3, f"{watcher.ingests - before} ingests for one burst"


def test_hidden_and_unsupported_files_start_no_ingest(
    watched: tuple[KnowledgeBase, DocumentWatcher, Path],
) -> None:
    kb, watcher, seeds = watched
    (seeds / ".orchard.md.swp").write_text("swap")
    (seeds / "orchard.md~").write_text("backup")
    (seeds / "picture.png").write_bytes(b"\x89PNG")
    (seeds / "late.md").write_text("# Late\n\nA late page about pears.\n")
    wait_for(lambda: "late.md" in sources(kb), "the markdown file")
    assert watcher.indexed_paths == {"late.md"}


def test_questions_during_100_rapid_changes_never_fail_or_mix_versions(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    corpus.write_round(seeds, 1)
    kb = KnowledgeBase(seeds_dir=seeds, persist_dir=tmp_path / "chroma", **corpus.SETTINGS)
    kb.ingest()
    corpus.remember_question_vectors(kb)
    rounds = 100
    with DocumentWatcher(kb, debounce_s=0.05) as watcher, corpus.asking(kb, threads=2) as tally:
        for version in range(2, rounds + 2):
            corpus.write_round(seeds, version, atomic=True)
            time.sleep(0.1)
        last = f"[zebra v{rounds + 1}]"
        wait_for(
            lambda: any(last in p.text for p in kb.search(corpus.question("zebra"))),
            "the last version",
        )
    assert tally.questions > 0 and tally.problems() == 0, tally.notes
    assert watcher.ingests > 1  # the changes were indexed while questions ran
    assert sources(kb) == {corpus.source(t) for t in corpus.STABLE_TOPICS} | {
        corpus.source(corpus.TRANSIENT_TOPIC, rounds + 1)
    }


def test_a_failing_ingest_is_logged_and_retried(
    watched: tuple[KnowledgeBase, DocumentWatcher, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    kb, watcher, seeds = watched
    real_ingest = kb.ingest
    calls: list[object] = []

    def fail_once(**kwargs: object) -> object:
        calls.append(kwargs)
        if len(calls) == 1:
            raise OSError("disk on fire")
        return real_ingest(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kb, "ingest", fail_once)
    monkeypatch.setattr("retrieval.watch.RETRY_S", 0.1)
    (seeds / "late.md").write_text("# Late\n\nA late page about pears.\n")
    wait_for(lambda: "late.md" in sources(kb), "the file, after the retry")
    assert watcher.running
    failures = [r for r in caplog.records if "disk on fire" in r.getMessage()]
    assert len(failures) == 1 and "\n" not in failures[0].getMessage()


def read_lines(stream: object, into: queue.Queue[str]) -> None:
    """Copy a subprocess's output lines into a queue."""
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def expect_line(lines: queue.Queue[str], text: str) -> str:
    """Return the first line containing ``text``, failing after WAIT_S."""
    deadline = time.monotonic() + WAIT_S * 2  # the subprocess loads the model first
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            continue
        if text in line:
            return line
    pytest.fail(f"no line with {text!r}")


def test_retrieval_watch_command_picks_up_a_change(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "orchard.md").write_text("# The orchard\n\nApples grow in Zell.\n")
    command = [
        sys.executable,
        "-m",
        "retrieval",
        "--seeds-dir",
        str(seeds),
        "--persist-dir",
        str(tmp_path / "chroma"),
        "watch",
        "--debounce",
        "0.2",
    ]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=read_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        assert "1 added" in expect_line(lines, "Ingested")
        expect_line(lines, "Watching")
        (seeds / "harbour.md").write_text("# The harbour\n\nQuorbl keeps the bananas.\n")
        assert "1 added" in expect_line(lines, "Re-indexed")
        (seeds / "harbour.md").unlink()
        assert "1 removed" in expect_line(lines, "Re-indexed")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=WAIT_S) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    kb = KnowledgeBase(seeds_dir=seeds, persist_dir=tmp_path / "chroma")
    assert sources(kb) == {"orchard.md"}


def test_watchers_of_several_processes_on_one_server_write_once_and_all_see_it(
    tmp_path: Path, chroma_server: ChromaServer
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "orchard.md").write_text("# The orchard\n\nApples grow in Zell.\n")
    where = {"host": chroma_server.host, "port": chroma_server.port}
    bots = [KnowledgeBase(seeds_dir=seeds, **where) for _ in range(2)]
    bots[0].ingest()
    reader = KnowledgeBase(seeds_dir=tmp_path / "elsewhere", **where)  # has no documents folder
    reports: list[IngestReport] = []
    watchers = [DocumentWatcher(kb, debounce_s=0.2, on_report=reports.append) for kb in bots]
    for watcher in watchers:
        watcher.start()
    try:
        (seeds / "harbour.md").write_text("# The harbour\n\nQuorbl keeps the bananas.\n")
        for kb in [*bots, reader]:
            wait_for(lambda kb=kb: "harbour.md" in found(kb, "Who keeps the bananas?"), "all")
        wait_for(lambda: len(reports) >= 2, "both watchers' ingests")
    finally:
        for watcher in watchers:
            watcher.stop()
    # The lease let one of them write it; the other found it done.
    assert sum(r.added for r in reports) == 1 and min(r.added for r in reports) == 0
    assert [s.source for s in reader.sources()] == ["harbour.md", "orchard.md"]
