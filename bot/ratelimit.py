"""A per-user sliding-window rate limit for questions."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a question may go ahead; when not, how long to wait and whether to say so."""

    allowed: bool
    retry_after: float = 0.0
    notify: bool = False


class RateLimiter:
    """Allow each user ``count`` questions per ``window`` seconds."""

    def __init__(
        self, count: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if count < 1 or window <= 0:
            raise ValueError(f"need count >= 1 and window > 0, but got {count} and {window}")
        self.count = count
        self.window = window
        self._clock = clock
        self._hits: defaultdict[int, deque[float]] = defaultdict(deque)
        self._notified: dict[int, float] = {}

    def check(self, user_id: int) -> Verdict:
        """Record a question from the user and say whether it is allowed."""
        now = self._clock()
        hits = self._hits[user_id]
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.count:
            hits.append(now)
            self._notified.pop(user_id, None)
            return Verdict(True)
        retry_after = hits[0] + self.window - now
        # One note per window is enough; more would let a spammer make the bot spam.
        last_note = self._notified.get(user_id)
        notify = last_note is None or last_note <= now - self.window
        if notify:
            self._notified[user_id] = now
        return Verdict(False, retry_after, notify)
