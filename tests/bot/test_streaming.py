"""bot.streaming: generated text read off the event loop and paced for Discord's edit limits."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.streaming import stream_answer
from retrieval import Answer, StoreUnavailableError

INTERVAL = 0.2
FINAL = Answer(question="q", text="checked text [1].", abstained=False, mode="llm")


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as pool:
        yield pool


def words(
    count: int, delay: float, closed: threading.Event | None = None
) -> Iterator[str | Answer]:
    """Yield ``count`` words ``delay`` seconds apart, then FINAL, like ask_stream in llm mode."""
    try:
        for i in range(count):
            time.sleep(delay)
            yield f"w{i} "
        yield FINAL
    finally:
        if closed is not None:
            closed.set()


async def test_text_is_coalesced_and_paced_then_the_answer_comes_last(
    executor: ThreadPoolExecutor,
) -> None:
    seen: list[tuple[float, str | Answer]] = []
    started = time.perf_counter()
    async for item in stream_answer(lambda: words(40, 0.02), executor, INTERVAL):
        seen.append((time.perf_counter(), item))
        await asyncio.sleep(0.05)  # the consumer's edit takes a while
    times = [t for t, _ in seen]
    texts = [i for _, i in seen[:-1]]
    assert seen[-1][1] is FINAL
    assert all(isinstance(t, str) for t in texts)
    assert 3 <= len(texts) < 40  # several updates, but far fewer than deltas
    assert all(b.startswith(a) and b != a for a, b in itertools.pairwise(texts))
    assert times[0] - started < 0.15  # the first words show at once
    gaps = [b - (a + 0.05) for a, b in itertools.pairwise(times)]  # from edit done
    assert min(gaps) >= INTERVAL - 0.01, gaps


async def test_an_extractive_answer_alone_is_passed_through_at_once(
    executor: ThreadPoolExecutor,
) -> None:
    started = time.perf_counter()
    items = [i async for i in stream_answer(lambda: iter([FINAL]), executor, INTERVAL)]
    assert items == [FINAL] and time.perf_counter() - started < INTERVAL


async def test_errors_of_the_library_are_raised_on_the_event_loop(
    executor: ThreadPoolExecutor,
) -> None:
    def failing() -> Iterator[str | Answer]:
        raise StoreUnavailableError("chroma is down")
        yield FINAL

    with pytest.raises(StoreUnavailableError, match="chroma is down"):
        async for _ in stream_answer(failing, executor, INTERVAL):
            pass


async def test_leaving_early_stops_the_generation(executor: ThreadPoolExecutor) -> None:
    closed = threading.Event()
    stream = stream_answer(lambda: words(1000, 0.01, closed), executor, INTERVAL)
    assert isinstance(await anext(stream), str)
    await stream.aclose()
    assert await asyncio.to_thread(closed.wait, 2.0)
