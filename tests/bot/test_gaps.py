"""bot.gaps and python -m bot gaps: unmet questions grouped by need, as Markdown and JSON."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bot import gaps
from bot.__main__ import main
from bot.feedback import AnswerRecord, FeedbackStore, UnmetQuestion, new_answer_id
from bot.settings import DiscordSettings
from retrieval import KnowledgeBase
from tests.bot.test_main import bot_env
from tests.conftest import REPO_ROOT

DAY = 86400.0
INTENT = [
    "How do I enable the message content intent?",
    "where do i turn on message content intent",
    "Message content intent: how to switch it on?",
    "which intent lets my bot read message content",
]
TOKEN = [
    "How do I reset my bot token?",
    "I leaked my token, how do I get a new one",
    "how to regenerate the bot token",
]
REFUND = [
    "What is the refund policy?",
    "How do refunds work?",
    "can I get a refund for my subscription",
]
TARIFFS = [
    "What tariffs did the US put on Colombian coffee?",
    "how high are the US tariffs on coffee from Colombia",
]
# Alone in their groups, though they share words with the groups above.
ALONE = ["how to make slash commands show up instantly", "Who is the US ambassador to Colombia?"]


def unmet(text: str, user: int | None, at: float = 1000.0) -> UnmetQuestion:
    """Return a declined question."""
    return UnmetQuestion(text, user, at, abstained=True, downvoted=False)


def test_cluster_joins_the_closest_centroid_at_the_threshold() -> None:
    vectors = np.array([[1.0, 0.0], [0.9, 0.436], [0.0, 1.0], [0.436, 0.9]])
    assert gaps.cluster(vectors, 0.8) == [[0, 1], [2, 3]]
    assert gaps.cluster(vectors, 0.999) == [[0], [1], [2], [3]]
    assert gaps.cluster(vectors[:0], 0.5) == []


def test_rephrasings_group_together_and_different_needs_apart(kb: KnowledgeBase) -> None:
    needs = [INTENT, TOKEN, REFUND, TARIFFS, *([text] for text in ALONE)]
    texts = [text for need in needs for text in need]
    vectors = kb.embedder.encode(texts)
    threshold = DiscordSettings().gaps_similarity
    for seed in range(10):  # people ask in any order; the groups must not depend on it
        order = random.Random(seed).sample(range(len(texts)), len(texts))
        groups = gaps.cluster(vectors[order], threshold)
        found = {frozenset(texts[order[i]] for i in group) for group in groups}
        assert found == {frozenset(need) for need in needs}, seed


def test_groups_are_ordered_by_distinct_people_with_counts_and_phrasings() -> None:
    # A 2-d "embedding": questions about tokens point one way, about intents the other.
    def embed(texts: list[str]) -> np.ndarray:
        return np.array([[1.0, 0.0] if "token" in t.lower() else [0.0, 1.0] for t in texts])

    asked = [
        unmet("reset token?", user=1, at=100.0),
        unmet("Reset  TOKEN?", user=1, at=200.0),  # the same person, the same words
        unmet("new token please", user=1, at=300.0),
        unmet("which intent?", user=2, at=50.0),
        unmet("intent for messages", user=3, at=60.0),
        UnmetQuestion("which intent?", None, 70.0, abstained=False, downvoted=True),
    ]
    nearest = gaps.ClosestDocument(
        "Intents",
        "intents.md",
        "https://docs.example/intents",
        0.4,
        "Privileged",
        "Intents › Privileged",
    )
    report = gaps.build_report(asked, embed, lambda q: [nearest], 0.9, days=7)
    intents, tokens = report.groups
    assert (intents.people, intents.asked, intents.declined, intents.downvoted) == (3, 3, 2, 1)
    assert intents.phrasings[0] == "which intent?"  # the most frequent phrasing first
    assert (tokens.people, tokens.asked, tokens.last_asked) == (1, 3, 300.0)
    assert tokens.phrasings == ("Reset TOKEN?", "new token please")  # distinct, latest wording
    assert intents.documents[0].source == "intents.md"
    text = gaps.to_markdown(report)
    assert text.index("which intent?") < text.index("Reset TOKEN?")
    assert "3 people, asked 3 times (2 declined, 1 👎)" in text
    assert "in the last 7 days" in text
    assert "[Intents › Privileged](https://docs.example/intents) (`intents.md`)" in text


def test_markdown_escapes_formatting_and_mentions() -> None:
    group = gaps.GapGroup(1, 1, 1, 0, ("why is `x` **bold** @everyone <@123>",), 0.0)
    text = gaps.to_markdown(gaps.GapReport((group,), 1, None))
    assert r"why is \`x\` \*\*bold\*\* \@everyone \<\@123\>" in text
    assert "@everyone" not in text.replace(r"\@everyone", "")


def fill_feedback(path: Path, now: float) -> None:
    """Store declined, 👎, answered and old questions, as the bot would."""
    store = FeedbackStore(path)

    def save(question: str, user: int, abstained: bool, at: float) -> str:
        answer_id = new_answer_id()
        record = AnswerRecord(
            answer_id, question, question, "…", abstained, [], [], 0.1, user_id=user, created_at=at
        )
        store.save_answer(record)
        return answer_id

    for i, text in enumerate(INTENT):
        save(text, 100 + i, True, now - i * 3600)
    downvoted = save(TOKEN[0], 200, False, now - DAY)
    store.vote(downvoted, 201, -1)
    liked = save("When will Petro meet Trump?", 300, False, now - DAY)
    store.vote(liked, 300, 1)
    save(REFUND[0], 400, True, now - 40 * DAY)  # outside --days 30
    store.close()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_python_m_bot_gaps_writes_markdown_and_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "feedback.sqlite3"
    fill_feedback(db, time.time())
    env = bot_env(tmp_path)
    KnowledgeBase(seeds_dir=REPO_ROOT / "seeds", persist_dir=tmp_path / "chroma").ingest()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "gaps", "--days", "30"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    markdown = done.stdout
    assert markdown.startswith("## Coverage gaps\n")
    assert "5 questions in the last 30 days" in markdown
    assert "### 1. How do I enable the message content intent?" in markdown
    assert "- 4 people, asked 4 times (4 declined)" in markdown
    assert "### 2. How do I reset my bot token?" in markdown
    assert "1 person, asked 1 time (1 👎)" in markdown
    assert "Petro" not in markdown.split("Closest documents")[0]  # answered and liked: no gap
    assert "refund" not in markdown  # older than 30 days
    assert "(`petro-trump-white-house-meeting.txt`)" in markdown  # the closest document
    assert "###" not in markdown.split("### 2.")[1]  # exactly two groups

    for key, value in env.items():
        if key.startswith("QABOT_"):
            monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    assert main(["gaps", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["days"] is None and data["questions"] == 6
    first = data["groups"][0]
    assert first["people"] == 4 and first["phrasings"][0] in INTENT
    assert len(first["phrasings"]) == 3
    assert first["documents"][0]["source"] == "petro-trump-white-house-meeting.txt"
    assert first["last_asked"].endswith("Z")
    assert [g["people"] for g in data["groups"]] == [4, 1, 1]


def test_days_must_be_positive(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("", encoding="utf-8")
    assert main(["--config", str(config), "gaps", "--days", "0"]) == 2
    assert "--days must be above 0" in capsys.readouterr().err
