"""Fixtures for the reliability tests: the bot harness of tests/bot, reused as it is."""

from tests.bot.conftest import (  # noqa: F401 - pytest finds fixtures by name
    double,
    kb,
    restore_endpoints,
    settings_file,
    start_bot,
)
