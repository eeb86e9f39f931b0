"""An OpenAI-compatible chat-completions server on 127.0.0.1 with scripted replies, for tests.

Runs aiohttp in a background thread so synchronous code (the real langchain-openai client) can call
it. Each request takes the next scripted :class:`Reply` (the last one repeats); every request body
is recorded in ``requests``.

>>> with OpenAIDouble() as double:
...     double.script(Reply("Paris is the capital [1].", chunk_delay_s=0.05))
...     settings = LLMSettings(base_url=double.base_url, model="openai:double")
...     *text, answer = stream_llm_answer(question, passages, extractive, settings, None)
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

HOST = "127.0.0.1"
START_TIMEOUT_S = 10.0  # how long start() waits for the server thread to listen


@dataclass(frozen=True)
class Reply:
    """One scripted response: text, an HTTP error status, a delay, or a hang."""

    text: str = ""
    status: int = 200
    delay_s: float = 0.0  # wait this long before answering
    hang: bool = False  # never answer; released only when the double stops
    hang_after_chunks: int | None = None  # when streaming: send this many deltas, then hang
    chunk_delay_s: float = 0.0  # when streaming: pause between deltas, like a real model


class OpenAIDouble:
    """A loopback stand-in for ``/v1/chat/completions``, streaming (SSE) and not."""

    def __init__(self) -> None:
        """Prepare an idle double; call start() or use it as a context manager."""
        self.requests: list[dict[str, Any]] = []
        self._script: list[Reply] = [Reply("I don't know: the documents don't cover this.")]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._release: asyncio.Event | None = None
        self._ready = threading.Event()
        self.port = 0

    @property
    def base_url(self) -> str:
        """Return the URL to give an OpenAI client as ``base_url``."""
        return f"http://{HOST}:{self.port}/v1"

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies`` in order; the last one repeats."""
        if not replies:
            raise ValueError("script() needs at least one Reply")
        self._script = list(replies)

    def messages(self, index: int = -1) -> list[dict[str, Any]]:
        """Return the chat messages of a recorded request (the last one by default)."""
        return list(self.requests[index]["messages"])

    def start(self) -> OpenAIDouble:
        """Start serving on an ephemeral port and return self."""
        self._thread = threading.Thread(target=self._serve, name="openai-double", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise RuntimeError("the OpenAI double did not start listening")
        return self

    def stop(self) -> None:
        """Release any hanging request, stop the server and join its thread."""
        loop = self._loop
        if loop is None or self._thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        future.result(timeout=START_TIMEOUT_S)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=START_TIMEOUT_S)
        self._loop = None

    def __enter__(self) -> OpenAIDouble:
        """Start the double."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop the double."""
        self.stop()

    def _serve(self) -> None:
        """Run the event loop of the server thread."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        loop.run_until_complete(self._startup())
        self._ready.set()
        loop.run_forever()
        loop.close()

    async def _startup(self) -> None:
        """Listen on 127.0.0.1 at a port the OS picks."""
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        """Release hanging handlers and close the server."""
        if self._release is not None:
            self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def _next_reply(self) -> Reply:
        """Take the next scripted reply; the last one stays."""
        return self._script.pop(0) if len(self._script) > 1 else self._script[0]

    async def _hang(self) -> None:
        """Wait until the double stops."""
        assert self._release is not None
        await self._release.wait()

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        """Answer one chat-completions request as scripted."""
        body = await request.json()
        self.requests.append(body)
        reply = self._next_reply()
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.hang:
            await self._hang()
        if reply.status != 200:
            return web.json_response(
                {"error": {"message": "scripted failure", "type": "server_error", "code": None}},
                status=reply.status,
            )
        if body.get("stream"):
            return await self._stream(request, body, reply)
        return web.json_response(
            {
                **_envelope(body, "chat.completion"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )

    async def _stream(
        self, request: web.Request, body: dict[str, Any], reply: Reply
    ) -> web.StreamResponse:
        """Send the reply as server-sent events, one word per delta."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)

        async def send(delta: dict[str, Any], finish: str | None = None) -> None:
            """Write one chunk event."""
            chunk = {
                **_envelope(body, "chat.completion.chunk"),
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send({"role": "assistant", "content": ""})
        for number, piece in enumerate(re.findall(r"\s*\S+", reply.text) or [reply.text]):
            if reply.hang_after_chunks is not None and number >= reply.hang_after_chunks:
                await self._hang()
            if reply.chunk_delay_s and number:
                await asyncio.sleep(reply.chunk_delay_s)
            await send({"content": piece})
        await send({}, finish="stop")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _envelope(body: dict[str, Any], kind: str) -> dict[str, Any]:
    """Return the fields every completion object carries."""
    return {
        "id": "chatcmpl-double",
        "object": kind,
        "created": int(time.time()),
        "model": body.get("model", "double"),
    }
