"""The built-in evaluation, and a quality guard: a SQuAD slice with conservative thresholds."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from retrieval.evaluation import (
    EvalDataError,
    Outcome,
    Question,
    contains_answer,
    evaluate,
    format_report,
    load_squad,
    split_articles,
    summarize,
)

SLICE = Path(__file__).resolve().parents[1] / "data" / "squad-v2-dev-slice.json"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> object:
    """Evaluate the default configuration on the slice once for every test here."""
    cache = tmp_path_factory.mktemp("models")
    return evaluate(SLICE, max_questions=60, holdout_fraction=0.25, cache_dir=cache)


def test_slice_loads_as_articles_with_answerable_questions() -> None:
    articles = load_squad(SLICE)
    assert [a.title for a in articles] == [
        "Steam engine",
        "1973 oil crisis",
        "Immune system",
        "Warsaw",
    ]
    assert all(q.answers for a in articles for q in a.questions)
    assert sum(len(a.questions) for a in articles) == 115


def test_held_out_articles_are_fixed_by_the_seed_and_never_all() -> None:
    articles = load_squad(SLICE)
    first = split_articles(articles, 0.25, seed=1)
    assert split_articles(articles, 0.25, seed=1) == first
    assert len(first[1]) == 1
    assert len(split_articles(articles, 0.9, seed=1)[0]) == 1


def test_question_parts_are_stable_and_both_used() -> None:
    questions = [q for a in load_squad(SLICE) for q in a.questions]
    parts = {q.part for q in questions}
    assert parts == {"tune", "test"}
    q = Question("abc", "x?", ("y",), "t")
    assert q.part == Question("abc", "other?", ("z",), "u").part


def test_answers_match_ignoring_case_and_spacing() -> None:
    assert contains_answer("It was built in  1712 by Newcomen.", ["1712 by newcomen"])
    assert not contains_answer("It was built in 1712.", ["1713"])


def test_metrics_count_the_rank_of_the_first_passage_with_the_answer() -> None:
    def asked(
        answers: tuple[str, ...], passages: list[str], answer: str, abstained: bool
    ) -> Outcome:
        question = Question("q", "When?", answers, "A")
        return Outcome(question, True, passages, answer=answer, abstained=abstained)

    outcomes = [
        asked(("1712",), ["no", "built in 1712", "1712 again"], "In 1712 [1]", False),
        asked(("Newcomen",), ["no", "nothing"], "", True),
        Outcome(Question("o", "Who?", ("x",), "B"), False, ["far"], abstained=True),
    ]
    m = summarize(outcomes, with_answers=True)
    assert (m.questions, m.oos_questions) == (2, 1)
    assert (m.hit_at_1, m.hit_at_3, m.hit_at_5, m.mrr) == (0.0, 0.5, 0.5, 0.25)
    assert (m.answer_hit, m.wrongly_abstained, m.oos_abstained) == (0.5, 0.5, 1.0)


def test_a_file_that_is_not_squad_is_refused_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rows": []}))
    with pytest.raises(EvalDataError, match="not a SQuAD-format file"):
        load_squad(bad)
    with pytest.raises(EvalDataError, match="does not exist"):
        load_squad(tmp_path / "missing.json")


def test_quality_guard_on_the_slice(report: object) -> None:
    """Conservative floors: a change that breaks retrieval or answers fails here."""
    from retrieval.evaluation import EvalReport

    assert isinstance(report, EvalReport)
    m = report.parts["all"]
    assert m.questions == 60
    assert m.hit_at_1 >= 0.70
    assert m.hit_at_5 >= 0.90
    assert m.answer_hit is not None and m.answer_hit >= 0.60
    assert m.wrongly_abstained is not None and m.wrongly_abstained <= 0.20
    assert m.oos_abstained is not None and m.oos_abstained >= 0.60
    assert m.mean_chars_top5 <= 3620  # no more text than the LangChain tutorial pipeline returns


def test_report_prints_a_table_and_json(report: object) -> None:
    from retrieval.evaluation import EvalReport

    assert isinstance(report, EvalReport)
    table = format_report(report)
    assert "| hit@1 |" in table and "| tune | test | all |" in table
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data["parts"]) == {"tune", "test", "all"}
    assert data["chunks"] > 0 and data["ingest_chunks_per_s"] > 0


def test_eval_command_prints_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from retrieval.cli import main

    monkeypatch.chdir(tmp_path)  # no config file: defaults; caches stay in the temporary folder
    out = io.StringIO()
    code = main(["eval", str(SLICE), "--max-questions", "8", "--json"], out=out)
    assert code == 0
    data = json.loads(out.getvalue())
    assert data["parts"]["all"]["questions"] == 8
    assert 0.0 <= data["parts"]["all"]["hit_at_5"] <= 1.0
