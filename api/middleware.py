"""One ASGI layer in front of every route: request id, body cap, JSON depth, text checks,
deadline, access log.

It runs before anything parses the request, so a 40 MB body is refused after the first
bytes over the cap, a JSON body nested deeper than MAX_JSON_DEPTH before any parser recurses
into it, a path or query string that is not UTF-8 before it is read as U+FFFD, and no request,
whatever the graph does, outlives its deadline.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import request_id
from api.problems import RETRY_AFTER_SECONDS

log = logging.getLogger("ruralkg.access")
_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Levels of [ and { a JSON body may nest: parameters need a few; Python's parser recurses once
# per level and raised RecursionError (a 500) at about a thousand.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_INNERMOST = re.compile(rb"\[\]|\{\}")


def too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if the arrays and objects of a JSON text nest deeper than `limit`, found without
    parsing it: strings dropped, then the innermost pairs of brackets taken away one level per
    pass (C-speed passes; a Python loop over 60 KB of brackets held the event loop 10 ms)."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        shallower = _INNERMOST.sub(b"", brackets)
        if shallower == brackets:  # nothing left to take away (or unbalanced: the parser says so)
            return False
        brackets = shallower
    return _INNERMOST.search(brackets) is not None


def is_utf8(raw: bytes) -> bool:
    """True if the percent-decoded text is UTF-8 (`%FF%FE` is not; read as text it would become
    U+FFFD and answer as if something else had been asked)."""
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


PROBLEM = b"application/problem+json"


def problem_message(status: int, title: str, detail: str) -> tuple[Message, Message]:
    """A problem+json response as ASGI messages, for the layer that runs outside FastAPI."""
    body = json.dumps(
        {
            "type": f"/problems/{title.lower().replace(' ', '-')}",
            "title": title,
            "status": status,
            "detail": detail,
            "request_id": request_id.get(),
        }
    ).encode()
    headers = [(b"content-type", PROBLEM), (b"content-length", str(len(body)).encode())]
    if status == 503:
        headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
    return (
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


class Guard:
    def __init__(self, app: ASGIApp, *, max_body: int, deadline: float) -> None:
        self.app, self.max_body, self.deadline = app, max_body, deadline

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = given if _ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started, status, t0 = False, 0, time.monotonic()
        answered = False  # this layer answered; whatever the app sends after is dropped
        id_header = (b"x-request-id", rid.encode())

        async def send_out(message: Message) -> None:
            nonlocal started, status
            if answered:
                return
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                message = {**message, "headers": [*message.get("headers", []), id_header]}
            await send(message)

        async def refuse(status_code: int, title: str, detail: str) -> None:
            nonlocal answered
            if not started:
                start, body = problem_message(status_code, title, detail)
                await send_out(start)
                await send(body)
            answered = True

        try:
            length = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            length = 0
        too_large = f"the request body may hold at most {self.max_body} bytes"
        try:
            if length > self.max_body:
                await refuse(413, "Body too large", too_large)
                return
            raw_path = scope.get("raw_path") or scope.get("path", "").encode()
            if not (is_utf8(scope.get("query_string", b"")) and is_utf8(raw_path)):
                await refuse(400, "Bad parameters", "the path or query string is not UTF-8 text")
                return
            media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if media == b"application/json" or media.endswith(b"+json"):
                # Read whole (it is capped) to measure its depth before any parser sees it.
                try:
                    async with asyncio.timeout(self.deadline):  # a body sent slowly is bounded too
                        replay = await self._json_body(receive, refuse, too_large)
                except TimeoutError:
                    await refuse(504, "Deadline exceeded", f"the request ran longer than {self.deadline:g} s")
                    return
                if replay is None:
                    return
                receive = replay
            received = 0

            async def capped_receive() -> Message:
                # Past the cap: answer 413 here and tell the app the client left, so it stops.
                nonlocal received
                if answered:
                    return {"type": "http.disconnect"}
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.max_body:
                        await refuse(413, "Body too large", too_large)
                        return {"type": "http.disconnect"}
                return message

            task = asyncio.ensure_future(self.app(scope, capped_receive, send_out))
            try:
                done, _ = await asyncio.wait({task}, timeout=self.deadline)
            except asyncio.CancelledError:
                # The server is stopping and its grace period is over: what is still in flight
                # is told to come back (503), not left to a bare 500.
                task.cancel()
                await refuse(503, "Shutting down", "the service is stopping; try again shortly")
                raise
            if not done:
                task.cancel()
                # The driver closes a connection whose task is cancelled; give it a moment,
                # but never let the caller wait on it.
                await asyncio.wait({task}, timeout=1.0)
                log.warning("request ran past its deadline of %.1f s and was cancelled", self.deadline)
                await refuse(504, "Deadline exceeded", f"the request ran longer than {self.deadline:g} s")
                return
            if answered:  # a refused body: whatever the app made of its end is moot
                task.exception()
                return
            task.result()
        finally:
            log.info(
                "%s %s %s",
                scope.get("method"),
                scope.get("path"),
                status,
                extra={"status": status, "ms": round((time.monotonic() - t0) * 1000, 1)},
            )
            request_id.reset(token)

    async def _json_body(
        self, receive: Receive, refuse: Callable[[int, str, str], Awaitable[None]], too_large: str
    ) -> Receive | None:
        """The JSON body read up to the cap and checked for depth: a receive that hands it on,
        or None when this layer refused it."""
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return _replay([], receive, message)
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_body:
                await refuse(413, "Body too large", too_large)
                return None
        body = b"".join(chunks)
        # A large body is measured off the event loop: the other requests must not wait on it.
        if await asyncio.to_thread(too_deep, body) if len(body) > 16_384 else too_deep(body):
            await refuse(
                400, "Bad parameters", f"(body): JSON nested too deep (more than {MAX_JSON_DEPTH} levels)"
            )
            return None
        return _replay([{"type": "http.request", "body": body, "more_body": False}], receive)


def _replay(messages: list[Message], receive: Receive, last: Message | None = None) -> Receive:
    """A receive that hands on the messages already read, then asks the client again."""
    pending = [*messages, *([last] if last is not None else [])]

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def cors_kwargs(origins: list[str]) -> dict[str, Any]:
    return {
        "allow_origins": origins,
        "allow_methods": ["GET", "POST"],
        "allow_headers": ["content-type", "x-api-key", "x-request-id"],
        "expose_headers": ["x-request-id", "retry-after"],
        "max_age": 600,
    }
