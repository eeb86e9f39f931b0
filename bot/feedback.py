"""A durable SQLite record of every answer the bot gave and the 👍/👎 votes on it.

The export is JSON Lines, one vote per line with the question, the question actually searched, the
answer and the cited chunk ids and scores, so it can be used as an evaluation set.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from retrieval import Answer

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    answer_id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    guild_id INTEGER,
    channel_id INTEGER,
    user_id INTEGER,
    message_id INTEGER,
    question TEXT NOT NULL,
    searched_question TEXT NOT NULL,
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    chunk_ids TEXT NOT NULL,
    scores TEXT NOT NULL,
    top_score REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_channel ON answers (channel_id, created_at);
CREATE INDEX IF NOT EXISTS answers_created ON answers (created_at);
CREATE TABLE IF NOT EXISTS answer_messages (
    message_id INTEGER PRIMARY KEY,
    answer_id TEXT NOT NULL REFERENCES answers (answer_id)
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers (answer_id),
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL,
    voted_at REAL NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
"""
ANSWER_ID_BYTES = 8  # 16 hex characters: fits in a button's custom_id with room to spare


def new_answer_id() -> str:
    """Return a random id for an answer, used in its buttons' custom ids."""
    return secrets.token_hex(ANSWER_ID_BYTES)


@dataclass(slots=True)
class AnswerRecord:
    """An answer as the bot sent it, with where and for whom."""

    answer_id: str
    question: str
    searched_question: str
    answer: str
    abstained: bool
    chunk_ids: list[str]
    scores: list[float]
    top_score: float
    guild_id: int | None = None
    channel_id: int | None = None
    user_id: int | None = None
    message_id: int | None = None
    created_at: float = field(default_factory=time.time)

    @classmethod
    def from_answer(
        cls,
        answer_id: str,
        answer: Answer,
        *,
        guild_id: int | None = None,
        channel_id: int | None = None,
        user_id: int | None = None,
    ) -> AnswerRecord:
        """Build a record from a retrieval Answer; cited chunks first, with their scores."""
        scores = {p.chunk_id: p.score for p in answer.passages}
        chunk_ids = [c.chunk_id for c in answer.citations]
        return cls(
            answer_id=answer_id,
            question=answer.question,
            searched_question=answer.searched_question or answer.question,
            answer=answer.text,
            abstained=answer.abstained,
            chunk_ids=chunk_ids,
            scores=[
                round(scores.get(cid, c.score), 4)
                for cid, c in zip(chunk_ids, answer.citations, strict=True)
            ],
            top_score=round(answer.top_score, 4),
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
        )


@dataclass(frozen=True, slots=True)
class UnmetQuestion:
    """A question the bot declined, or whose answer got a 👎: what was asked, by whom, when."""

    question: str  # as searched: a follow-up carries its thread's earlier words
    user_id: int | None
    asked_at: float
    abstained: bool
    downvoted: bool


class FeedbackStore:
    """Answers and votes in one SQLite file; safe to call from worker threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"FeedbackStore({str(self.path)!r})"

    def _connect(self) -> sqlite3.Connection:
        """Open the database on first use, creating the file and tables."""
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL survives a crash of the bot; only a power cut can lose the last
            # commits, and it keeps an fsync off every answer's path.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
            self._conn = conn
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Yield the connection inside a transaction, one writer at a time."""
        with self._lock:
            conn = self._connect()
            conn.execute("BEGIN")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def save_answer(self, record: AnswerRecord) -> None:
        """Store (or replace) an answer record."""
        row = asdict(record)
        row["chunk_ids"] = json.dumps(record.chunk_ids)
        row["scores"] = json.dumps(record.scores)
        row["abstained"] = int(record.abstained)
        columns = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        with self._transaction() as conn:
            conn.execute(f"INSERT OR REPLACE INTO answers ({columns}) VALUES ({marks})", row)

    def add_messages(self, answer_id: str, message_ids: list[int]) -> None:
        """Remember which Discord messages carry the answer, so replies to them are follow-ups."""
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO answer_messages (message_id, answer_id) VALUES (?, ?)",
                [(mid, answer_id) for mid in message_ids],
            )
            if message_ids:
                conn.execute(
                    "UPDATE answers SET message_id = ? WHERE answer_id = ?",
                    (message_ids[-1], answer_id),
                )

    def _row_to_record(self, row: sqlite3.Row) -> AnswerRecord:
        """Turn a database row back into an AnswerRecord."""
        data = dict(row)
        data["chunk_ids"] = json.loads(data["chunk_ids"])
        data["scores"] = json.loads(data["scores"])
        data["abstained"] = bool(data["abstained"])
        return AnswerRecord(**data)

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        """Run a read query and return its rows."""
        with self._lock:
            conn = self._connect()
            with closing(conn.cursor()) as cur:
                cur.row_factory = sqlite3.Row
                return list(cur.execute(sql, params))

    def get_answer(self, answer_id: str) -> AnswerRecord | None:
        """Return the answer with this id, or None."""
        rows = self._query("SELECT * FROM answers WHERE answer_id = ?", (answer_id,))
        return self._row_to_record(rows[0]) if rows else None

    def answer_for_message(self, message_id: int) -> AnswerRecord | None:
        """Return the answer carried by a Discord message, or None."""
        rows = self._query(
            "SELECT a.* FROM answer_messages m JOIN answers a USING (answer_id) "
            "WHERE m.message_id = ?",
            (message_id,),
        )
        return self._row_to_record(rows[0]) if rows else None

    def recent_questions(self, channel_id: int, limit: int) -> list[str]:
        """Return the latest questions answered in a channel or thread, oldest first."""
        rows = self._query(
            "SELECT question FROM answers WHERE channel_id = ? ORDER BY created_at DESC LIMIT ?",
            (channel_id, limit),
        )
        return [r["question"] for r in reversed(rows)]

    def vote(self, answer_id: str, user_id: int, vote: int) -> bool:
        """Record a user's +1/-1 on an answer (a new vote replaces theirs); False if unknown."""
        if vote not in (1, -1):
            raise ValueError(f"vote must be 1 or -1, but got {vote!r}")
        with self._transaction() as conn:
            known = conn.execute("SELECT 1 FROM answers WHERE answer_id = ?", (answer_id,))
            if known.fetchone() is None:
                return False
            conn.execute(
                "INSERT OR REPLACE INTO votes (answer_id, user_id, vote, voted_at) "
                "VALUES (?, ?, ?, ?)",
                (answer_id, user_id, vote, time.time()),
            )
        return True

    def unmet_questions(self, since: float = 0.0) -> list[UnmetQuestion]:
        """Return the questions asked since ``since`` declined or 👎-voted, oldest first."""
        rows = self._query(
            "SELECT searched_question, user_id, created_at, abstained, EXISTS ("
            "  SELECT 1 FROM votes v WHERE v.answer_id = a.answer_id AND v.vote < 0"
            ") AS downvoted FROM answers a "
            "WHERE created_at >= ? AND (abstained = 1 OR downvoted) ORDER BY created_at",
            (since,),
        )
        return [
            UnmetQuestion(
                question=r["searched_question"],
                user_id=r["user_id"],
                asked_at=r["created_at"],
                abstained=bool(r["abstained"]),
                downvoted=bool(r["downvoted"]),
            )
            for r in rows
        ]

    def iter_feedback(self) -> Iterator[dict[str, Any]]:
        """Yield one dictionary per vote, joined with its answer, oldest first."""
        rows = self._query(
            "SELECT a.*, v.user_id AS voter_id, v.vote, v.voted_at FROM votes v "
            "JOIN answers a USING (answer_id) ORDER BY v.voted_at",
            (),
        )
        for row in rows:
            data = dict(row)
            yield {
                "question": data["question"],
                "searched_question": data["searched_question"],
                "answer": data["answer"],
                "abstained": bool(data["abstained"]),
                "chunk_ids": json.loads(data["chunk_ids"]),
                "scores": json.loads(data["scores"]),
                "top_score": data["top_score"],
                "vote": "up" if data["vote"] > 0 else "down",
                "answer_id": data["answer_id"],
                "guild_id": data["guild_id"],
                "channel_id": data["channel_id"],
                "user_id": data["voter_id"],
                "asked_at": iso_utc(data["created_at"]),
                "voted_at": iso_utc(data["voted_at"]),
            }

    def export_jsonl(self, out: IO[str]) -> int:
        """Write every vote as one JSON line and return how many were written."""
        count = 0
        for item in self.iter_feedback():
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
            count += 1
        return count


def iso_utc(timestamp: float) -> str:
    """Return a UTC ISO-8601 time for a Unix timestamp."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
