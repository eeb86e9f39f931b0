"""Versioned test documents whose every chunk names its document and version, and the checks.

Each paragraph ends with a marker like ``[zebra v3]`` and is short enough to be a chunk of its own
(with ``CHUNK_SIZE``), so any retrieved passage tells which version of which document it came from.
"""

from __future__ import annotations

import os
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STABLE_TOPICS = ("zebra", "lantern", "quartz")  # documents that always exist and keep changing
TRANSIENT_TOPIC = "nomad"  # documents that are added and deleted again
PARAGRAPHS = 5  # paragraphs (and so chunks) per document
CHUNK_SIZE = 200  # chunking.chunk_size that keeps one paragraph per chunk
CHUNK_OVERLAP = 20  # chunking.chunk_overlap, smaller than any paragraph
MARKER = re.compile(r"\[(\w+) v(\d+)\]")
SETTINGS: dict[str, Any] = {  # the documents have a heading: the section sizes apply
    "chunk_size": CHUNK_SIZE,
    "chunk_overlap": CHUNK_OVERLAP,
    "section_chunk_size": CHUNK_SIZE,
    "section_chunk_overlap": CHUNK_OVERLAP,
}


def document(topic: str, version: int, paragraphs: int = PARAGRAPHS) -> str:
    """Return the text of one version of the document about ``topic``."""
    lines = [f"# The {topic} almanac\n"]
    for n in range(1, paragraphs + 1):
        lines.append(
            f"Fact {n} about the {topic}: in edition {version} the {topic} keeper counted "
            f"{version * 10 + n} {topic} sightings near the old harbour. [{topic} v{version}]\n"
        )
    return "\n".join(lines)


def source(topic: str, number: int | None = None) -> str:
    """Return the file name of a topic's document."""
    return f"{topic}.md" if number is None else f"{topic}-{number}.md"


def write_file(path: Path, text: str, atomic: bool = False) -> None:
    """Write a file; ``atomic`` saves it as editors do, a hidden file renamed over the old one.

    A watcher may read a file at any moment; an atomic save is never seen half written.
    """
    if not atomic:
        path.write_text(text, encoding="utf-8")
        return
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_round(seeds: Path, version: int, atomic: bool = False) -> None:
    """Write round ``version``: every stable document changes, one transient comes, one goes."""
    for topic in STABLE_TOPICS:
        write_file(seeds / source(topic), document(topic, version), atomic)
    write_file(seeds / source(TRANSIENT_TOPIC, version), document(TRANSIENT_TOPIC, version), atomic)
    old = seeds / source(TRANSIENT_TOPIC, version - 1)
    if old.exists():
        old.unlink()


def question(topic: str, n: int = 3) -> str:
    """Return a question that the document about ``topic`` answers."""
    return f"How many {topic} sightings did the {topic} keeper count in fact {n}?"


@dataclass
class Tally:
    """Counts of what the readers saw."""

    questions: int = 0
    failures: int = 0
    empty: int = 0
    mixed: int = 0
    missing: int = 0
    half: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        for name in ("questions", "failures", "empty", "mixed", "missing", "half"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.notes += other.notes

    def problems(self) -> int:
        """Return the number of bad observations."""
        return self.failures + self.empty + self.mixed + self.missing + self.half

    def note(self, text: str) -> None:
        """Keep a few examples of what went wrong."""
        if len(self.notes) < 10:
            self.notes.append(text)


def check_passages(
    tally: Tally, passages: Sequence[Any], target: str, what: str = "passages"
) -> None:
    """Count an empty result, a document missing, or chunks of two versions of one document."""
    if not passages:
        tally.empty += 1
        tally.note(f"no {what} for {target}")
        return
    versions: dict[str, set[str]] = defaultdict(set)
    for p in passages:
        markers = MARKER.findall(p.text)
        for topic, version in markers:
            if not p.source.startswith(topic):
                tally.mixed += 1
                tally.note(f"{p.source} holds text of {topic}")
            versions[p.source].add(version)
    for name, seen in versions.items():
        if len(seen) > 1:
            tally.mixed += 1
            tally.note(f"{what}: {name} mixes versions {sorted(seen)}")
    if target not in {p.source for p in passages}:
        tally.missing += 1
        tally.note(f"{what}: {target} missing from {[p.source for p in passages]}")


def check_sources(tally: Tally, sources: Iterable[Any]) -> None:
    """Count a stable document missing from the sources list or listed with part of its chunks."""
    listed = {s.source: s.chunks for s in sources}
    for topic in STABLE_TOPICS:
        chunks = listed.get(source(topic))
        if chunks is None:
            tally.missing += 1
            tally.note(f"sources() lacks {source(topic)}")
        elif chunks != PARAGRAPHS:
            tally.half += 1
            tally.note(f"sources() lists {source(topic)} with {chunks} chunks")


def remember_question_vectors(kb: Any) -> None:
    """Make ``kb`` embed each single question once, so a reader loop asks many times a second.

    Only the cost changes: the vectors are the model's own.
    """
    encode = kb.embedder.encode
    seen: dict[str, Any] = {}

    def encode_once(texts: Sequence[str], *args: Any, **kwargs: Any) -> Any:
        if len(texts) != 1:
            return encode(texts, *args, **kwargs)
        if texts[0] not in seen:
            seen[texts[0]] = encode(texts, *args, **kwargs)
        return seen[texts[0]]

    kb.embedder.encode = encode_once


def search_and_check(kb: Any, tally: Tally, topic: str, every: int = 10) -> None:
    """Search for ``topic`` and check the passages; every ``every`` questions, ask in full too."""
    tally.questions += 1
    try:
        check_passages(tally, kb.search(question(topic)), source(topic), "search")
        if tally.questions % every == 0:
            answer = kb.ask(question(topic))
            check_passages(tally, answer.passages, source(topic), "answer")
            check_sources(tally, kb.sources())
    except Exception as exc:  # noqa: BLE001 - every failure is counted, none may happen
        tally.failures += 1
        tally.note(f"{type(exc).__name__}: {exc}")


@contextmanager
def asking(kb: Any, threads: int) -> Iterator[Tally]:
    """Ask about every stable topic in ``threads`` threads until the block ends; tally them all.

    The tally yielded is filled in when the block ends, once the threads have stopped.
    """
    tallies = [Tally() for _ in range(threads)]
    done = threading.Event()

    def ask_in_a_loop(tally: Tally) -> None:
        while not done.is_set():
            for topic in STABLE_TOPICS:
                search_and_check(kb, tally, topic)

    askers = [threading.Thread(target=ask_in_a_loop, args=(t,)) for t in tallies]
    for asker in askers:
        asker.start()
    total = Tally()
    try:
        yield total
    finally:
        done.set()
        for asker in askers:
            asker.join()
        for part in tallies:
            total.add(part)
