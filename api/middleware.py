"""One ASGI layer in front of every route: request id, body cap, deadline, access log.

It runs before anything parses the request, so a 40 MB body is refused after the first
bytes over the cap, and no request, whatever the graph does, outlives its deadline.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import request_id

log = logging.getLogger("ruralkg.access")
_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
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
            done, _ = await asyncio.wait({task}, timeout=self.deadline)
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


def cors_kwargs(origins: list[str]) -> dict[str, Any]:
    return {
        "allow_origins": origins,
        "allow_methods": ["GET", "POST"],
        "allow_headers": ["content-type", "x-api-key", "x-request-id"],
        "expose_headers": ["x-request-id", "retry-after"],
        "max_age": 600,
    }
