"""Generated answers streamed into Discord: read off the event loop, shown by paced message edits.

Discord allows about five edits per five seconds in a channel and answers faster bursts with 429s,
so the text is shown by editing one message at most once per ``stream_edit_interval_s``; deltas
that arrive in between are coalesced into the next edit.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import Executor

import discord

from bot import render
from retrieval import Answer

Item = str | Answer  # what KnowledgeBase.ask_stream yields: text deltas, then the Answer
# sends one message: the reply, its buttons, and whether it opens the answer (the reply-to)
Send = Callable[[render.Reply, discord.ui.View | None, bool], Awaitable[discord.Message]]


async def stream_answer(
    produce: Callable[[], Iterator[Item]], executor: Executor, interval: float
) -> AsyncGenerator[Item]:
    """Yield the text written so far at most once per ``interval`` seconds, then the Answer.

    ``produce`` (such as ``lambda: kb.ask_stream(question)``) runs in a worker thread, so the
    event loop never waits on the model. The interval counts from when the consumer finished with
    the previous text (its edit returned), so a slow Discord slows the pace instead of bunching
    edits; the first text comes at once, unchanged text never twice, and the Answer no sooner
    than one interval after the last text. Errors of ``produce`` are raised here.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Item | Exception] = asyncio.Queue()
    stop = threading.Event()

    def put(item: Item | Exception) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the event loop has closed: nobody is reading any more
            stop.set()

    def run() -> None:
        items: Iterator[Item] = iter(())
        try:
            items = produce()
            for item in items:
                put(item)
                if stop.is_set() or isinstance(item, Answer):
                    return
            put(RuntimeError("the answer stream ended without an Answer"))
        except Exception as exc:  # noqa: BLE001 - raised again on the event loop
            put(exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:  # a generator: end the model's request too
                close()

    async def next_item(timeout: float | None) -> Item | Exception | None:
        """Return the next item, or None when ``timeout`` passes first."""
        if not queue.empty():
            return queue.get_nowait()
        if timeout is None:
            return await queue.get()
        try:
            return await asyncio.wait_for(queue.get(), timeout)
        except TimeoutError:
            return None

    loop.run_in_executor(executor, run)
    text = shown = ""
    ready_at = loop.time()  # the next text may be shown from this time on
    try:
        while True:
            pending = text != shown
            item = await next_item(max(0.0, ready_at - loop.time()) if pending else None)
            if item is None:
                shown = text
                yield text
                ready_at = loop.time() + interval
            elif isinstance(item, Exception):
                raise item
            elif isinstance(item, Answer):
                if shown:
                    await asyncio.sleep(max(0.0, ready_at - loop.time()))
                yield item
                return
            else:
                text += item
    finally:
        stop.set()


class Outbox:
    """The messages of one answer: the first is posted once and then edited, more go below it."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.message: discord.Message | None = None
        self.ids: list[int] = []

    async def show(self, reply: render.Reply, view: discord.ui.View | None = None) -> None:
        """Post the first message, or edit it into ``reply``."""
        if self.message is None:
            self.message = await self.send(reply, view, True)
            self.ids.append(self.message.id)
            return
        await self.message.edit(
            content=reply.content or None,
            embeds=reply.embeds,
            view=view,
            allowed_mentions=render.NO_MENTIONS,
        )

    async def add(self, reply: render.Reply, view: discord.ui.View | None = None) -> None:
        """Send another message below the first."""
        sent = await self.send(reply, view, False)
        self.ids.append(sent.id)

    async def finish(self, replies: Sequence[render.Reply], view: discord.ui.View) -> None:
        """Show the final replies in the first message and below it, ``view`` under the last."""
        for i, reply in enumerate(replies):
            last = view if i == len(replies) - 1 else None
            if i == 0:
                await self.show(reply, last)
            else:
                await self.add(reply, last)
