"""bot.feedback: answers and votes survive in SQLite and export as JSON Lines."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.feedback import AnswerRecord, FeedbackStore, new_answer_id
from retrieval import Answer, Citation, Passage


def sample_answer() -> Answer:
    """Return an answer citing one passage."""
    passage = Passage(text="t", source="a.txt", title="A", score=0.81234, chunk_id="c1")
    cite = Citation(number=1, source="a.txt", title="A", quote="t", chunk_id="c1", score=0.8)
    return Answer(
        question="and when?",
        text="On May 1 [1].",
        abstained=False,
        citations=[cite],
        passages=[passage],
        searched_question="and when? Petro",
    )


def test_votes_survive_a_reopen_and_export_as_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "data" / "feedback.sqlite3"
    store = FeedbackStore(path)
    answer_id = new_answer_id()
    record = AnswerRecord.from_answer(
        answer_id, sample_answer(), guild_id=1, channel_id=2, user_id=3
    )
    store.save_answer(record)
    store.add_messages(answer_id, [10, 11])
    assert store.vote(answer_id, user_id=7, vote=1)
    assert store.vote(answer_id, user_id=7, vote=-1)  # a user's new vote replaces the old one
    assert store.vote(answer_id, user_id=8, vote=1)
    assert not store.vote("0" * 16, user_id=7, vote=1)
    store.close()

    reopened = FeedbackStore(path)
    assert reopened.answer_for_message(10) == reopened.answer_for_message(11)
    assert reopened.recent_questions(2, 5) == ["and when?"]
    out = io.StringIO()
    assert reopened.export_jsonl(out) == 2
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {r["vote"] for r in rows} == {"up", "down"}
    assert rows[0]["searched_question"] == "and when? Petro"
    assert rows[0]["chunk_ids"] == ["c1"] and rows[0]["scores"] == [0.8123]
    assert rows[0]["guild_id"] == 1 and rows[0]["channel_id"] == 2
    assert "FeedbackStore(" in repr(reopened)


def test_a_vote_must_be_up_or_down(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="got 3"):
        FeedbackStore(tmp_path / "f.db").vote("a" * 16, 1, 3)
