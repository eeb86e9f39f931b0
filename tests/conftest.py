"""Shared fixtures for the test suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.openai_double import OpenAIDouble


@pytest.fixture
def openai_double() -> Iterator[OpenAIDouble]:
    """Yield a running OpenAI-compatible double on 127.0.0.1; stop it afterwards."""
    with OpenAIDouble() as double:
        yield double
