"""The evaluation on a documentation folder with questions in the shared corpora's schema."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from retrieval.eval_docs import cache_key, evaluate_docs, load_doc_questions
from retrieval.evaluation import (
    EvalDataError,
    EvalReport,
    Outcome,
    Question,
    format_misses,
    misses,
    summarize,
)
from retrieval.settings import load_settings

DATA = Path(__file__).resolve().parents[1] / "data"
DOCS = DATA / "docs"
QUESTIONS = DATA / "docs-questions.json"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keep the embedding model's exports out of the repository."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def store_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store cache shared by the evaluations of this module."""
    return tmp_path_factory.mktemp("stores")


@pytest.fixture(scope="module")
def report(models: Path, store_cache: Path) -> EvalReport:
    """Evaluate the default configuration on the tiny docs tree once."""
    return evaluate_docs(DOCS, QUESTIONS, store_cache=store_cache, cache_dir=models)


def test_questions_load_with_their_kinds_and_files() -> None:
    questions = load_doc_questions(QUESTIONS)
    kinds = [q.kind for q in questions]
    assert kinds.count("answerable") == 5 and kinds[-2:] == ["off-topic", "trap"]
    assert questions[0].file == "docs/index.md" and questions[0].answers == (
        "Python 3.10 or newer",
    )
    assert {q.part for q in questions} == {"tune", "test"}


def test_a_questions_file_in_another_schema_is_refused_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "q.json"
    bad.write_text(json.dumps({"answerable": [{"q": "x"}], "abstain": []}))
    with pytest.raises(EvalDataError, match="is not a questions file"):
        load_doc_questions(bad)
    bad.write_text(json.dumps({"answerable": [], "abstain": [{"q": "x", "kind": "rude"}]}))
    with pytest.raises(EvalDataError, match="abstain kind"):
        load_doc_questions(bad)


def test_a_docs_folder_that_is_not_the_corpus_root_is_named(tmp_path: Path) -> None:
    with pytest.raises(EvalDataError, match="pass the corpus folder"):
        evaluate_docs(DOCS / "docs", QUESTIONS, store_cache=tmp_path)


def test_report_measures_search_answers_and_declines(report: EvalReport) -> None:
    m = report.parts["all"]
    assert (m.questions, m.oos_questions) == (5, 2)
    assert m.hit_at_5 >= 0.8  # every gold sits in a short file about one topic
    assert m.right_file_top5 is not None and 0 < m.right_file_top5 <= 1
    assert m.answer_hit is not None and m.answer_or_quote_hit is not None
    assert m.answer_or_quote_hit >= m.answer_hit
    assert set(m.declined_by_kind) == {"off-topic", "trap"}
    assert m.declined_by_kind["off-topic"] == 1.0
    assert report.parts["tune"].questions + report.parts["test"].questions == 5
    assert set(report.titles) == {
        "docs/guide/scheduling.md",
        "docs/guide/workers.md",
        "docs/index.md",
    }
    assert report.titles["docs/index.md"] == "Tern"


def test_every_miss_says_where_the_gold_was(report: EvalReport) -> None:
    by_question = {q.text: q for q in load_doc_questions(QUESTIONS)}
    for miss in report.misses:
        question = by_question[miss.question]
        assert miss.kind == question.kind and miss.part == question.part
        assert miss.declined or miss.answer
        assert miss.gold_rank >= 0


def test_the_second_run_reuses_the_built_store(
    report: EvalReport, models: Path, store_cache: Path
) -> None:
    built = [p for p in store_cache.iterdir() if not p.name.startswith(".")]
    assert len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    again = evaluate_docs(DOCS, QUESTIONS, store_cache=store_cache, cache_dir=models)
    assert [p for p in store_cache.iterdir() if not p.name.startswith(".")] == built
    assert built[0].stat().st_mtime_ns == stamp
    assert again.chunks == report.chunks and again.misses == report.misses


def test_the_cache_key_follows_the_documents_and_the_chunking(tmp_path: Path) -> None:
    settings = load_settings()
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nOne.\n")
    first = cache_key(folder, settings)
    assert cache_key(folder, settings) == first
    (folder / "a.md").write_text("# A\n\nTwo.\n")
    changed = cache_key(folder, settings)
    assert changed != first
    settings.chunking.chunk_size = 500
    assert cache_key(folder, settings) != changed


def test_file_and_citation_metrics_on_hand_made_outcomes() -> None:
    question = Question("q1", "how?", ("three times",), "docs/a.md", file="docs/a.md")
    right = Outcome(
        question,
        True,
        ["no", "retried three times"],
        answer="It is retried three times.",
        sources=["docs/b.md", "docs/a.md"],
        cited=["docs/a.md"],
    )
    other = Question("q2", "why?", ("start only one",), "docs/c.md", file="docs/c.md")
    wrong = Outcome(
        other,
        True,
        ["nothing"],
        answer="Something else.",
        sources=["docs/b.md"],
        cited=["docs/b.md"],
        quotes=["you should start only one worker"],
    )
    declined = Outcome(Question("t", "trap?", (), "", kind="trap"), False, [], abstained=False)
    m = summarize([right, wrong, declined], with_answers=True)
    assert m.right_file_top5 == 0.25  # half of the first's passages, none of the second's
    assert (m.answer_hit, m.answer_or_quote_hit, m.citation_file) == (0.5, 1.0, 0.5)
    assert m.declined_by_kind == {"trap": 0.0}
    found = misses([right, wrong, declined])
    assert [f.question for f in found] == ["why?", "trap?"]
    text = format_misses(found)
    assert "gold not retrieved (docs/c.md)" in text and "should be declined (trap)" in text


def test_eval_command_takes_a_docs_folder_and_prints_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrieval.cli import main

    monkeypatch.chdir(tmp_path)  # no config file: defaults; caches stay in the temporary folder
    out = io.StringIO()
    args = ["eval", "--docs", str(DOCS), "--questions", str(QUESTIONS), "--json"]
    code = main([*args, "--store-cache", str(tmp_path / "stores")], out=out)
    assert code == 0
    data = json.loads(out.getvalue())
    assert data["parts"]["all"]["questions"] == 5 and data["docs"] == str(DOCS)
    assert len(data["titles"]) == 3
    assert all({"question", "answer", "gold_rank"} <= set(m) for m in data["misses"])


def test_eval_command_wants_a_file_or_a_docs_folder_with_questions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from retrieval.cli import main

    with pytest.raises(SystemExit):
        main(["eval", "--docs", str(DOCS)])
    assert "--questions" in capsys.readouterr().err
