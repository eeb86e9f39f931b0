"""python -m bot: startup failures are one line naming DISCORD_TOKEN and a non-zero exit."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.discord_double import DiscordDouble

pytestmark = [pytest.mark.timeout(90), pytest.mark.slow]

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ +[\w.]+: ")  # LOG_FORMAT


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Return a clean environment for python -m bot, run from an empty folder."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("QABOT_") and k != "DISCORD_TOKEN"
    }
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        # the session's exported model: exporting it again takes most of the time on a busy machine
        QABOT_EMBEDDING__CACHE_DIR=os.environ["QABOT_EMBEDDING__CACHE_DIR"],
        QABOT_DOCUMENTS__SEEDS_DIR=str(REPO_ROOT / "seeds"),
        QABOT_STORE__PERSIST_DIR=str(tmp_path / "chroma"),
        QABOT_DISCORD__FEEDBACK_DB=str(tmp_path / "feedback.sqlite3"),
    )
    env.update(extra)
    return env


async def start_bot_process(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    """Start python -m bot in tmp_path, its output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def read_until(stream: asyncio.StreamReader, needle: str) -> str:
    """Read lines from ``stream`` until one holds ``needle``; return what was read."""
    lines = []
    while line := (await stream.readline()).decode():
        lines.append(line)
        if needle in line:
            break
    return "".join(lines)


async def run_bot(tmp_path: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run python -m bot in tmp_path and return its exit code and stderr."""
    proc = await start_bot_process(tmp_path, env)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def test_without_a_token_it_prints_one_line_and_exits_non_zero(tmp_path: Path) -> None:
    code, err = await run_bot(tmp_path, bot_env(tmp_path))
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "DISCORD_TOKEN" in lines[0]
    assert "Traceback" not in err


async def test_a_rejected_token_prints_one_line_without_the_token(
    tmp_path: Path, double: DiscordDouble
) -> None:
    wrong = "wrong-token-XYZ123"
    env = bot_env(
        tmp_path,
        DISCORD_TOKEN=wrong,
        QABOT_DISCORD__API_BASE=double.api_base,
        QABOT_DISCORD__GATEWAY_URL=double.gateway_url,
    )
    code, err = await run_bot(tmp_path, env)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "DISCORD_TOKEN" in lines[0] and "rejected" in lines[0]
    assert "Traceback" not in err and wrong not in err
    assert [r.path for r in double.requests] == ["/users/@me"]  # it asked our double, only once


async def test_python_m_bot_answers_through_the_double_and_stops_cleanly_on_sigterm(
    tmp_path: Path, double: DiscordDouble
) -> None:
    env = bot_env(
        tmp_path,
        DISCORD_TOKEN=double.token,
        QABOT_DISCORD__API_BASE=double.api_base,
        QABOT_DISCORD__GATEWAY_URL=double.gateway_url,
    )
    proc = await start_bot_process(tmp_path, env)
    assert proc.stderr is not None
    before = ""
    try:
        await double.wait_for(lambda: double.identifies, 60)
        msg = await double.user_message(double.channel_id, f"<@{double.app_id}> Who ousted Maduro?")
        answer = await double.wait_for(lambda: double.bot_messages(int(msg["id"])), 30)
        assert "Maduro" in answer[0]["embeds"][0]["description"]
        # the outcome is logged just after the answer is sent: stop the bot only once it is
        before = await asyncio.wait_for(read_until(proc.stderr, "question outcome="), 30)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    log = before + err.decode()
    assert proc.returncode == 0 and "Traceback" not in log
    assert all(LOG_LINE.match(line) for line in log.splitlines()), log  # our format only
    assert "index up to date: 1 added" in log and "question outcome=answered" in log
    assert double.token not in log
    assert double.spec_errors == [] and double.gateway_errors == []
