from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from retrieval.errors import ConfigError
from retrieval.settings import Secrets, Settings, load_settings
from tests.conftest import REPO_ROOT

CONFIG = REPO_ROOT / "config" / "settings.toml"


def test_the_library_reads_the_shared_settings_file_as_its_defaults() -> None:
    # The file also holds the bot's [discord] table (tests/bot/test_settings.py checks every key).
    assert "discord" in tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    assert load_settings(config_file=CONFIG) == Settings()


def test_settings_file_comments_every_key() -> None:
    for line in CONFIG.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "'")) and line.rstrip()[-1] != "[":
            assert "#" in line, f"no comment on: {line}"


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "s.toml"
    config.write_text("[retrieval]\ntop_k = 3\n")
    assert load_settings(config_file=config).retrieval.top_k == 3
    monkeypatch.setenv("QABOT_RETRIEVAL__TOP_K", "8")
    assert load_settings(config_file=config).retrieval.top_k == 8
    assert load_settings(config_file=config, top_k=2).retrieval.top_k == 2


def test_keyword_overrides_find_their_section() -> None:
    settings = load_settings(seeds_dir="docs", persist_dir="/tmp/kb", chunk_size=300)
    assert settings.documents.seeds_dir == Path("docs")
    assert settings.store.persist_dir == Path("/tmp/kb")
    assert settings.chunking.chunk_size == 300


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[retrieval]\ntop_kk = 3\n", "unknown setting 'retrieval.top_kk'"),
        ("[retreival]\ntop_k = 3\n", "unknown setting 'retreival'"),
        ("[retrieval]\ntop_k = 'many'\n", "retrieval.top_k"),
        ("[chunking]\nchunk_size = 100\nchunk_overlap = 200\n", "chunk_overlap must be smaller"),
        (
            "[chunking]\nsection_chunk_size = 300\nsection_chunk_overlap = 300\n",
            "section_chunk_overlap must be smaller than section_chunk_size",
        ),
    ],
)
def test_bad_file_values_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    config = tmp_path / "s.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_settings(config_file=config)


def test_bad_environment_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QABOT_RETRIEVAL__TOP_K", "abc")
    with pytest.raises(ConfigError, match="retrieval.top_k"):
        load_settings()
    monkeypatch.delenv("QABOT_RETRIEVAL__TOP_K")
    monkeypatch.setenv("QABOT_RETRIEVAL__TOPK", "3")
    with pytest.raises(ConfigError, match="QABOT_RETRIEVAL__TOPK"):
        load_settings()


def test_tables_other_front_ends_own_are_accepted_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "s.toml"
    config.write_text("[retrieval]\ntop_k = 3\n[helpdesk]\nqueue = 'docs'\n[discord]\nx = 1\n")
    monkeypatch.setenv("QABOT_HELPDESK__QUEUE", "support")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("QABOT_HELPDESK__DESK=2\nQABOT_ANSWER__MIN_SCORE=0.3\n")
    settings = load_settings(config_file=config)
    assert settings.retrieval.top_k == 3 and settings.answer.min_score == 0.3
    assert set(settings.model_dump()) == set(Settings.model_fields)
    (tmp_path / ".env").write_text("QABOT_ANSWRE__MIN_SCORE=0.3\n")  # a typo of our own table
    with pytest.raises(ConfigError, match="qabot_answre__min_score"):
        load_settings(config_file=config)


def test_unknown_keyword_override_is_an_error() -> None:
    with pytest.raises(ConfigError, match="unknown setting 'seed_dir'"):
        load_settings(seed_dir="x")


def test_missing_settings_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_file=tmp_path / "absent.toml")


def test_secrets_come_from_environment_and_stay_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QABOT_LLM_API_KEY", "tok-123-secret")
    secrets = Secrets()
    assert secrets.llm_api_key is not None
    assert secrets.llm_api_key.get_secret_value() == "tok-123-secret"
    assert "tok-123-secret" not in repr(secrets) + str(secrets)


def test_secrets_are_not_accepted_from_the_settings_file(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text('discord_token = "abc"\n')
    with pytest.raises(ConfigError, match="unknown setting 'discord_token'"):
        load_settings(config_file=config)


def test_overrides_apply_to_given_settings_without_reloading(tmp_path: Path) -> None:
    from retrieval import KnowledgeBase
    from retrieval.settings import with_overrides

    config = tmp_path / "s.toml"
    config.write_text("[retrieval]\ntop_k = 3\n")
    base = load_settings(config_file=config, min_score=0.5)
    kb = KnowledgeBase(base, persist_dir=tmp_path / "kb")
    assert kb.settings.retrieval.top_k == 3
    assert kb.settings.answer.min_score == 0.5
    assert kb.settings.store.persist_dir == tmp_path / "kb"
    assert base.store.persist_dir != tmp_path / "kb"
    with pytest.raises(ConfigError, match="retrieval.top_k"):
        with_overrides(base, top_k=0)
