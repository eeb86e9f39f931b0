"""The Discord token and the model API key never show up in logs, errors, reprs or crash output."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import BotSecrets
from retrieval import KnowledgeBase, RetrievalError, load_settings
from tests.chroma_server import free_port
from tests.conftest import REPO_ROOT
from tests.openai_double import OpenAIDouble, Reply

DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.SECRET.discord-token-value-0123456789"
API_KEY = "sk-SECRET-api-key-value-9876543210abcdef"
SECRETS = {"DISCORD_TOKEN": DISCORD_TOKEN, "QABOT_LLM_API_KEY": API_KEY}


def assert_no_secret(text: str, where: str) -> None:
    """Fail when any secret, or a long piece of one, appears in ``text``."""
    for name, value in SECRETS.items():
        for piece in (value, value[:16], value[-16:]):
            assert piece not in text, f"{name} leaked into {where}"


def test_llm_failures_and_reprs_never_show_secrets(
    seed_kb: KnowledgeBase,
    openai_double: OpenAIDouble,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)  # every logger, libraries included
    kb = KnowledgeBase(
        seeds_dir=seed_kb.settings.documents.seeds_dir,
        persist_dir=seed_kb.settings.store.persist_dir,
        answer={"mode": "llm"},
        llm={"model": "openai:double", "base_url": openai_double.base_url, "timeout_s": 5},
    )
    secrets = BotSecrets()  # the library's secrets and the bot's token
    seen: list[str] = [repr(kb), repr(kb.settings), repr(secrets), str(secrets)]
    seen.append(secrets.model_dump_json())
    for reply in (Reply(status=500), Reply(status=401, text="bad key"), Reply("not json", 200)):
        openai_double.script(reply)
        try:
            answer = kb.ask("When will Petro meet Trump?")
            seen += [repr(answer), answer.note, answer.text]
        except RetrievalError as exc:
            seen += [str(exc), repr(exc)]
    assert openai_double.requests, "the model was never called, so nothing was tested"
    captured = capfd.readouterr()
    assert_no_secret(caplog.text, "the logs")
    assert_no_secret(captured.out + captured.err, "standard output or error")
    for text in seen:
        assert_no_secret(text, "a repr, an answer or an error")
    assert secrets.llm_api_key is not None and secrets.discord_token is not None  # really set
    assert load_settings().model_dump_json().count("SECRET") == 0


def run_cli(*args: str, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the command line with the secrets in its environment; return its output."""
    return subprocess.run(
        [sys.executable, "-m", "retrieval", *args],
        cwd=tmp_path,
        env={**os.environ, **SECRETS, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_command_line_errors_and_crashes_never_show_secrets(
    seeds_copy: Path, tmp_path: Path
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens: the model call fails
    where = ["--seeds-dir", str(seeds_copy), "--persist-dir", str(tmp_path / "chroma")]
    runs = [
        run_cli("-v", *where, "ingest", tmp_path=tmp_path, env={}),
        run_cli(
            "-v",
            *where,
            "ask",
            "When will Petro meet Trump?",
            "--mode",
            "llm",
            tmp_path=tmp_path,
            env={"QABOT_LLM__BASE_URL": closed, "QABOT_LLM__MODEL": "openai:double"},
        ),
        run_cli("-v", *where, "ask", "x", tmp_path=tmp_path, env={"QABOT_RETRIEVAL__BAD_KEY": "1"}),
        run_cli(  # a store path that is a file
            "-v",
            "--seeds-dir",
            str(seeds_copy),
            "--persist-dir",
            str(seeds_copy / "petro-trump-white-house-meeting.txt"),
            "ask",
            "When?",
            tmp_path=tmp_path,
            env={},
        ),
    ]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[2].returncode != 0 and runs[3].returncode != 0
    assert "Traceback" not in runs[3].stderr
    assert "as the Chroma store folder" in runs[3].stderr
    for run in runs:
        assert_no_secret(run.stdout + run.stderr, f"the output of {run.args[3:]}")


def test_dotenv_is_ignored_by_git() -> None:
    for name in (".env", "bot/.env", "config/.env"):
        check = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", name], cwd=REPO_ROOT, check=False
        )
        assert check.returncode == 0, f"{name} is not ignored by git"
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [f for f in tracked if Path(f).name == ".env"]
