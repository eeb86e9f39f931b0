"""Evaluation on a documentation folder with help-channel questions in the shared corpora's schema.

The questions file holds ``{"answerable": [{"q", "gold", "file"}], "abstain": [{"q", "kind"}]}``:
``gold`` are short spans copied from ``file`` (a path relative to the documents folder), and
the ``abstain`` questions (kind "off-topic" or "trap") should be declined. A passage or answer
hits when it contains a gold span, compared case-insensitively with whitespace collapsed.

The folder is indexed once per content: the store is built in a child process and kept in a cache
keyed by the documents, the settings that shape the index and the code that builds it; every run
works on its own copy, so runs side by side never share a store.

>>> report = evaluate_docs("tests/data/docs", "tests/data/docs-questions.json")
>>> sorted(report.parts)
['all', 'test', 'tune']
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from retrieval.evaluation import (
    ANSWERABLE,
    EvalDataError,
    EvalReport,
    Question,
    ask_all,
    eval_settings,
    misses,
    summarize_parts,
)
from retrieval.settings import Settings
from retrieval.types import IngestReport

DOCS_MAX_ANSWER_CHARS = 1000  # a longer answer does not count as a hit: it must settle, not dump
DEFAULT_CACHE_DIR = Path(tempfile.gettempdir()) / "qabot-eval-cache"
CACHE_KEEP = 8  # built stores kept in the cache; older ones are removed
ABSTAIN_KINDS = frozenset({"off-topic", "trap"})
# Modules that only answer questions: changing them leaves the built index valid. Any other module
# under retrieval/ (loaders, chunking, ingest, the store, words) is part of the cache key.
QUERY_MODULES = frozenset(
    {
        "__main__.py",
        "abstain.py",
        "answer.py",
        "cli.py",
        "eval_cli.py",
        "eval_docs.py",
        "evaluation.py",
        "excerpt.py",
        "grounding.py",
        "keyword_index.py",
        "llm.py",
        "markup.py",
        "prompt.py",
        "questions.py",
        "retriever.py",
        "search.py",
        "sections.py",
        "spelling.py",
        "watch.py",
    }
)
_REPORT_FILE = "ingest.json"


def load_doc_questions(path: str | Path) -> list[Question]:
    """Read a questions file in the shared corpora's schema into questions of every kind."""
    file = Path(path)
    if not file.is_file():
        raise EvalDataError(f"questions file {str(file)!r} does not exist")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        questions = [
            Question(
                qid=str(item["q"]),
                text=str(item["q"]),
                answers=tuple(str(g) for g in item["gold"]),
                article=str(item["file"]),
                file=str(item["file"]),
            )
            for item in data["answerable"]
        ]
        for item in data["abstain"]:
            kind = str(item["kind"])
            if kind not in ABSTAIN_KINDS:
                raise ValueError(f"abstain kind must be one of {sorted(ABSTAIN_KINDS)}: {kind!r}")
            questions.append(Question(str(item["q"]), str(item["q"]), (), "", kind=kind))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise EvalDataError(
            f"{str(file)!r} is not a questions file "
            f'({{"answerable": [{{"q", "gold", "file"}}], "abstain": [{{"q", "kind"}}]}}): {exc}'
        ) from None
    if not questions:
        raise EvalDataError(f"{str(file)!r} holds no questions")
    return questions


def _digest_files(root: Path, pattern: str, skip: frozenset[str] = frozenset()) -> str:
    """Return a hash of the relative paths and contents of the files under ``root``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob(pattern) if p.is_file() and p.name not in skip):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_key(docs: Path, settings: Settings) -> str:
    """Return the key of the index built from ``docs``: contents, index settings, indexing code."""
    shaping = settings.model_dump(mode="json", include={"documents", "chunking", "embedding"})
    shaping["documents"].pop("seeds_dir", None)
    shaping["embedding"].pop("cache_dir", None)
    shaping["embedding"].pop("excerpt_backend", None)  # answers only: the index is the same
    code = _digest_files(Path(__file__).resolve().parent, "*.py", QUERY_MODULES)
    parts = [_digest_files(docs, "*"), json.dumps(shaping, sort_keys=True), code]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _build(settings: Settings, report_file: Path) -> None:
    """Index the documents folder into the settings' store; runs in a child process."""
    from retrieval.kb import KnowledgeBase

    kb = KnowledgeBase(settings)
    kb.embedder.encode(["warm up"])  # the model load is not counted as ingest time
    report_file.write_text(json.dumps(asdict(kb.ingest())))


def cached_store(settings: Settings, cache_dir: Path) -> tuple[Path, IngestReport]:
    """Return a built store of the settings' documents folder from the cache, building it once.

    The build runs in a child process so that the store is closed and complete on disk before
    it is moved into the cache under its key.
    """
    key = cache_key(settings.documents.seeds_dir, settings)
    built = cache_dir / key
    if not (built / _REPORT_FILE).is_file():
        cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache_dir))
        child_settings = settings.model_copy(deep=True)
        child_settings.store.persist_dir = staging / "chroma"
        process = multiprocessing.get_context("spawn").Process(
            target=_build, args=(child_settings, staging / "chroma" / _REPORT_FILE)
        )
        (staging / "chroma").mkdir()
        process.start()
        process.join()
        if process.exitcode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise EvalDataError(f"indexing {str(settings.documents.seeds_dir)!r} failed")
        with contextlib.suppress(OSError):  # another run built the same key first
            os.replace(staging / "chroma", built)
        shutil.rmtree(staging, ignore_errors=True)
        _prune(cache_dir)
    data = json.loads((built / _REPORT_FILE).read_text())
    return built, IngestReport(**data)


def _prune(cache_dir: Path) -> None:
    """Remove all but the CACHE_KEEP most recently built stores."""
    stores = sorted(
        (p for p in cache_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in stores[CACHE_KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


def evaluate_docs(
    docs: str | Path,
    questions_file: str | Path,
    *,
    settings: Settings | None = None,
    name: str = "qabot",
    progress: bool = False,
    store_cache: str | Path | None = DEFAULT_CACHE_DIR,
    work_dir: str | Path | None = None,
    **overrides: Any,
) -> EvalReport:
    """Index ``docs`` (cached), ask every question of ``questions_file``, return the metrics.

    ``store_cache=None`` builds the index afresh in the run's temporary folder.
    """
    from retrieval.kb import KnowledgeBase

    folder = Path(docs)
    if not folder.is_dir():
        raise EvalDataError(f"documents folder {str(folder)!r} does not exist")
    questions = load_doc_questions(questions_file)
    named = {q.file for q in questions if q.file}
    if named and not any((folder / f).is_file() for f in named):
        raise EvalDataError(
            f"none of the files the questions name (e.g. {sorted(named)[0]!r}) is under "
            f"{str(folder)!r}; pass the corpus folder the paths are relative to"
        )
    with tempfile.TemporaryDirectory(prefix="qabot-eval-", dir=work_dir) as tmp:
        root = Path(tmp)
        run_settings = eval_settings(settings, root, overrides)
        run_settings.documents.seeds_dir = folder
        if store_cache is None:
            built = None
        else:
            built, report = cached_store(run_settings, Path(store_cache))
            shutil.copytree(built, run_settings.store.persist_dir)
        kb = KnowledgeBase(run_settings)
        kb.embedder.encode(["warm up"])
        fresh = kb.ingest(progress=progress)
        if built is None:
            report = fresh
        asked = [(q, q.kind == ANSWERABLE) for q in questions]
        outcomes = ask_all(kb, asked, progress)
        titles = {s.source: s.title for s in kb.sources()}
        used = kb.settings.model_dump(mode="json", include={"chunking", "embedding", "retrieval"})
        used["answer"] = kb.settings.answer.model_dump(mode="json")
    return EvalReport(
        name=name,
        file=str(questions_file),
        articles_indexed=len(titles),
        articles_held_out=0,
        chunks=report.chunks_total,
        ingest_seconds=report.seconds,
        ingest_chunks_per_s=report.chunks_added / report.seconds if report.seconds else 0.0,
        parts=summarize_parts(outcomes, with_answers=True, max_answer_chars=DOCS_MAX_ANSWER_CHARS),
        settings=used,
        docs=str(folder),
        titles=titles,
        warnings=list(report.warnings),
        misses=misses(outcomes, DOCS_MAX_ANSWER_CHARS),
    )
