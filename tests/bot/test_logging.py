"""python -m bot's logging: one line format, our loggers at the chosen level, others at WARNING."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator

import pytest

from bot.__main__ import setup_logging

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ +[\w.]+: ")  # LOG_FORMAT


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root logger and our loggers back as pytest had them."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    levels = {n: logging.getLogger(n).level for n in ("bot", "retrieval", "bm25s")}
    saved_showwarning = warnings.showwarning
    yield
    warnings.showwarning = saved_showwarning
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_only_our_format_reaches_stderr(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    root.handlers[:] = []  # as in a fresh `python -m bot`
    setup_logging("INFO")
    import bm25s  # noqa: F401 - sets its own logger to DEBUG on import, as in the bot

    logging.getLogger("bm25s").setLevel(logging.DEBUG)
    logging.getLogger("bm25s").debug("Building index from token IDs")
    logging.warning("a library logging on the root logger")  # would call basicConfig()
    logging.basicConfig()  # a library configuring logging itself: now a no-op
    logging.getLogger("discord.client").warning(
        "PyNaCl is not installed, voice will NOT be supported"
    )
    logging.getLogger("chromadb.telemetry").info("chatter below WARNING")
    logging.getLogger("bot.cogs.ask").info("question outcome=answered")
    logging.getLogger("retrieval.search").debug("below the chosen level")
    warnings.warn("a deprecated call in a library", UserWarning, stacklevel=1)
    lines = capsys.readouterr().err.splitlines()
    assert len(root.handlers) == 1
    assert all(LOG_LINE.match(line) for line in lines), lines
    text = "\n".join(lines)
    assert "DEBUG" not in text and "Building index" not in text and "WARNING:root" not in text
    assert "voice" not in text and "chatter" not in text and "below the chosen" not in text
    assert "INFO    bot.cogs.ask: question outcome=answered" in text
    assert "WARNING root: a library logging on the root logger" in text
    assert "WARNING py.warnings: UserWarning: a deprecated call in a library (" in text
    assert len(lines) == 3
