"""bot.ratelimit: N questions per window per user."""

from __future__ import annotations

import pytest

from bot.ratelimit import RateLimiter


def test_each_user_gets_n_questions_per_window_and_one_note() -> None:
    now = [0.0]
    limiter = RateLimiter(2, 10.0, clock=lambda: now[0])
    assert limiter.check(1).allowed and limiter.check(1).allowed
    refused = limiter.check(1)
    assert not refused.allowed and refused.notify and refused.retry_after == pytest.approx(10.0)
    assert not limiter.check(1).notify  # one note per window
    assert limiter.check(2).allowed  # other users are not affected
    now[0] = 10.5
    assert limiter.check(1).allowed


def test_bad_limits_are_rejected() -> None:
    with pytest.raises(ValueError, match="got 0"):
        RateLimiter(0, 1.0)
