"""Serving the app with uvicorn: bounded shutdown, no Host-trusting, problem+json even for
the requests uvicorn itself refuses before the app sees them."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from api.logs import configure
from graph.settings import Settings

# Seconds uvicorn waits for open requests at shutdown before closing them; every request is
# bounded by its own deadline anyway.
GRACEFUL_SHUTDOWN_SECONDS = 3
# A request head (request line and headers) larger than this is refused with a 400 problem.
MAX_HEADER_BYTES = 16 * 1024
# Allocations between two young collections (Python's default is 700). A request on a cache
# miss allocates thousands of objects (driver records, rows, models); at 700 the collector ran
# several times per request and, with the app's own objects in the old generations, took
# 0.7 ms of the API's 4-5 ms of CPU per request (measured with gc.callbacks, issue 21).
GC_YOUNG_THRESHOLD = 10_000


# uvicorn's interim answer to `Expect: 100-continue`, written before the response proper.
CONTINUE = b"HTTP/1.1 100 "


class OneWrite:
    """The connection's transport as one response's cycle sees it: the response head is held
    and written with the first bytes of the body, so a response goes out in one send.

    uvicorn writes the head as soon as the app starts the response and the body when it comes,
    a moment later in the same turn of the loop: two sends on the socket, two wakeups of the
    client, for one answer (on loopback each send also runs the receiver's side of TCP in the
    sender's time). An interim 100 Continue is written at once, and so is the head of an answer
    to HEAD (uvicorn writes no body for it); whatever is held is written before the transport
    closes, so nothing the app sent is lost or reordered.
    """

    __slots__ = ("_head", "_started", "_transport")

    def __init__(self, transport: asyncio.Transport, method: str) -> None:
        self._transport = transport
        self._head: bytes | None = None
        self._started = method == "HEAD"  # nothing to hold: the head is the whole response

    def write(self, data: bytes) -> None:
        if not self._started and not data.startswith(CONTINUE):
            self._started, self._head = True, data  # the head: held until the body's first bytes
            return
        if self._head is not None:
            data, self._head = self._head + data, None
        self._transport.write(data)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def close(self) -> None:
        if self._head is not None:
            self._transport.write(self._head)
            self._head = None
        self._transport.close()


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol (llhttp, in C), answering malformed HTTP with a problem+json
    400, not text/plain, and refusing a request head larger than MAX_HEADER_BYTES.

    Every response is written in one send (OneWrite). Not uvicorn's h11 protocol: h11 parses
    every request and frames every response in pure Python, on the one core the API has
    (docs/benchmarks/api.md). llhttp has no limit on a
    head's size, so this one counts the bytes of a head still incomplete after each read, as
    h11's limit on an incomplete event did: a head that starts partway through a read (after
    a pipelined request) is counted from the next read on, so what is held before the
    refusal stays under the limit plus one read.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # the next bytes begin or go on with a request head
        self._head_bytes = 0  # bytes of the current head, read so far
        self._heads = 0  # heads completed on this connection

    def data_received(self, data: bytes) -> None:
        in_head, heads = self._in_head, self._heads
        super().data_received(data)
        if not self._in_head or self.transport.is_closing():
            return
        if in_head and heads == self._heads:  # the whole read belongs to the same head
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEADER_BYTES:
                self.send_400_response(f"the request head is larger than {MAX_HEADER_BYTES} bytes")

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0
        self._heads += 1
        before = self.cycle
        super().on_headers_complete()
        if self.cycle is not before:  # a new request's cycle, its task not started yet
            self.cycle.transport = OneWrite(self.transport, self.scope["method"])  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True

    def send_400_response(self, msg: str) -> None:
        body = json.dumps(
            {
                "type": "/problems/malformed-request",
                "title": "Malformed request",
                "status": 400,
                "detail": f"the HTTP request cannot be read: {msg}",
            }
        ).encode()
        head = [STATUS_LINE[400]]
        for name, value in [
            *self.server_state.default_headers,
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]:
            head.append(name + b": " + value + b"\r\n")
        self.transport.write(b"".join([*head, b"\r\n", body]))
        self.transport.close()


def config(app: FastAPI, settings: Settings, host: str, port: int, log_level: str = "info") -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=ProblemHttpToolsProtocol,
        log_level=log_level,
        log_config=None,  # ours: JSON lines with the request id (api.logs)
        access_log=False,  # the Guard middleware logs each request with its id and duration
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        timeout_keep_alive=5,
        server_header=False,
        proxy_headers=False,
    )


def tune_gc() -> None:
    """Move everything alive now (modules, the app, its models and routes: objects that live as
    long as the process) out of the collector's sight, and collect the young less often: the
    collections a request pays for then look only at what requests made."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def serve(app: FastAPI, settings: Settings, host: str, port: int, log_level: str = "info") -> None:
    configure(settings.log_format, getattr(__import__("logging"), log_level.upper()))
    tune_gc()
    uvicorn.Server(config(app, settings, host, port, log_level)).run()
