"""Settings of the Discord front end: the ``[discord]`` table of config/settings.toml.

Every key can be overridden from the environment as ``QABOT_DISCORD__<KEY>``; lists are JSON there
(``QABOT_DISCORD__ALLOWED_CHANNELS='[123, 456]'``). The token is not a setting: it comes from
``DISCORD_TOKEN`` (environment or .env) through :class:`BotSecrets` and is never logged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator

from retrieval import Secrets, Settings, load_settings
from retrieval.settings import Section

DEFAULT_FEEDBACK_DB = Path("data") / "feedback.sqlite3"  # answers and votes, exportable as JSONL


class DiscordSettings(Section):
    """Where the bot answers, how often, and where Discord is."""

    api_base: str = ""  # REST base such as http://127.0.0.1:8080/api/v10; empty = Discord's own
    gateway_url: str = (
        ""  # gateway websocket such as ws://127.0.0.1:8080/gateway; empty = Discord's
    )
    dev_guild_id: int = 0  # sync slash commands to this guild only (instant); 0 = sync globally
    sync_commands: bool = True  # push the slash commands to Discord at startup
    ingest_on_start: bool = True  # bring the index up to date (incrementally) before connecting
    allowed_guilds: list[int] = Field(
        default_factory=list
    )  # guild ids the bot answers in; empty = every guild
    allowed_channels: list[int] = Field(
        default_factory=list
    )  # channel ids (threads count as their parent); empty = all
    qa_channels: list[int] = Field(
        default_factory=list
    )  # channels where every message is a question (message-content)
    message_content: bool = False  # request the privileged message-content intent
    open_threads: bool = True  # answer a mention in a new thread opened on the question
    thread_archive_minutes: int = Field(1440, ge=60, le=10080)  # 60, 1440, 4320 or 10080
    history_size: int = Field(3, ge=0, le=20)  # earlier questions used to resolve a follow-up
    rate_limit_count: int = Field(5, ge=1)  # questions a user may ask per window
    rate_limit_window_s: float = Field(60.0, gt=0)  # length of the rate-limit window in seconds
    allow_dms: bool = False  # answer questions sent in direct messages
    reindex_roles: list[int] = Field(
        default_factory=list
    )  # role ids allowed to /reindex besides Manage Server
    curator_roles: list[int] = Field(
        default_factory=list
    )  # role ids allowed /gaps, Save as answer and /forget besides Manage Server
    community_folder: str = "community"  # saved answers go here, inside documents.seeds_dir
    saved_answer_max_chars: int = Field(2000, ge=1)  # longest message Save as answer accepts
    gaps_days: float = Field(30.0, gt=0)  # /gaps covers questions of the last this many days
    gaps_similarity: float = Field(0.55, gt=0, le=1)  # cosine at which questions share a group
    feedback_db: Path = DEFAULT_FEEDBACK_DB  # SQLite file with answers and 👍/👎 votes
    stream_edit_interval_s: float = Field(1.2, ge=0.2)  # llm mode: min seconds between edits
    auto_shard: bool = False  # AutoShardedBot: as many gateway shards as Discord recommends

    @field_validator("community_folder")
    @classmethod
    def _inside_seeds(cls, value: str) -> str:
        """Keep saved answers inside the documents folder, where they are indexed."""
        parts = Path(value).parts
        if not value.strip() or Path(value).is_absolute() or ".." in parts:
            raise ValueError(
                f"must be a folder inside documents.seeds_dir, such as 'community', got {value!r}"
            )
        return value


class BotSettings(Settings):
    """The retrieval settings plus the ``[discord]`` table."""

    discord: DiscordSettings = DiscordSettings()


class BotSecrets(Secrets):
    """The library's secrets plus the bot's token, from the environment or .env only."""

    discord_token: SecretStr | None = Field(None, validation_alias="DISCORD_TOKEN")


def load_bot_settings(config_file: str | None = None, **overrides: Any) -> BotSettings:
    """Load the bot's settings from config/settings.toml, .env and QABOT_* variables."""
    return load_settings(BotSettings, config_file=config_file, **overrides)
