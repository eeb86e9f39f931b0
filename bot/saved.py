"""Answers saved from Discord as Markdown documents in the documents folder.

Each saved answer is one file named by the Discord message id, so saving a message again replaces
its document. The front matter holds the question as the title and the message link as the
document's ``url``, which is what citations link to. Files are written to a hidden temporary file
first and renamed into place: a reader or an ingest never sees half a document.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

TITLE_MAX_CHARS = 200  # the loaders take a longer first line for body text, not a title
SNOWFLAKE = re.compile(r"(\d{15,25})\s*/?\s*$")  # a message id, alone or ending a message link


@dataclass(frozen=True, slots=True)
class SavedAnswer:
    """A human's answer from Discord and the question it answers."""

    message_id: int
    question: str
    answer: str  # verbatim, with mentions already written as names
    author: str  # the answer author's display name
    asked_by: str
    url: str  # the message link
    created_at: datetime

    @property
    def title(self) -> str:
        """Return the question's first line, short enough to be a title."""
        line = next((ln.strip() for ln in self.question.splitlines() if ln.strip()), "")
        line = line or "Answer from Discord"
        if len(line) <= TITLE_MAX_CHARS:
            return line
        return line[: TITLE_MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"

    def to_markdown(self) -> str:
        """Return the document: YAML front matter, then the answer text unchanged."""
        front = {
            "title": self.title,
            "description": f"Answered by {self.author} in Discord",
            "url": self.url,
            "author": self.author,
            "asked_by": self.asked_by,
            "date": self.created_at.date().isoformat(),
            "question": self.question,
            "message_id": str(self.message_id),
        }
        header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1_000_000)
        return f"---\n{header}---\n\n{self.answer.strip()}\n"


def document_path(folder: Path, message_id: int) -> Path:
    """Return where the answer saved from a message lives."""
    return folder / f"{message_id}.md"


def write_document(folder: Path, saved: SavedAnswer) -> tuple[Path, bool]:
    """Write the document atomically; return its path and whether it replaced an earlier one."""
    folder.mkdir(parents=True, exist_ok=True)
    path = document_path(folder, saved.message_id)
    existed = path.exists()
    # A dot name: the documents loader skips hidden files, so a crash leaves nothing indexed.
    fd, tmp = tempfile.mkstemp(prefix=f".{saved.message_id}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(saved.to_markdown())
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path, existed


def remove_document(folder: Path, message_id: int) -> bool:
    """Delete the document saved from a message; return False when there was none."""
    try:
        document_path(folder, message_id).unlink()
    except FileNotFoundError:
        return False
    return True


def parse_message_ref(text: str) -> int | None:
    """Return the message id in a message link or a bare id, or None.

    >>> parse_message_ref("https://discord.com/channels/1/2/1181234567890123456")
    1181234567890123456
    """
    match = SNOWFLAKE.search(text.strip())
    return int(match[1]) if match else None
