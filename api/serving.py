"""Serving the app with uvicorn: bounded shutdown, no Host-trusting, problem+json even for
the requests uvicorn itself refuses before the app sees them."""

from __future__ import annotations

import gc
import json

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.logs import configure
from graph.settings import Settings

# Seconds uvicorn waits for open requests at shutdown before closing them; every request is
# bounded by its own deadline anyway.
GRACEFUL_SHUTDOWN_SECONDS = 3
# Header block and request line limit: what h11 refuses above it is a 400 problem.
MAX_HEADER_BYTES = 16 * 1024
# Allocations between two young collections (Python's default is 700). A request on a cache
# miss allocates thousands of objects (driver records, rows, models); at 700 the collector ran
# several times per request and, with the app's own objects in the old generations, took
# 0.7 ms of the API's 4-5 ms of CPU per request (measured with gc.callbacks, issue 21).
GC_YOUNG_THRESHOLD = 10_000


class ProblemH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering malformed HTTP with a problem+json 400, not text/plain."""

    def send_400_response(self, msg: str) -> None:
        body = json.dumps(
            {
                "type": "/problems/malformed-request",
                "title": "Malformed request",
                "status": 400,
                "detail": f"the HTTP request cannot be read: {msg}",
            }
        ).encode()
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()


def config(app: FastAPI, settings: Settings, host: str, port: int, log_level: str = "info") -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=ProblemH11Protocol,
        log_level=log_level,
        log_config=None,  # ours: JSON lines with the request id (api.logs)
        access_log=False,  # the Guard middleware logs each request with its id and duration
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
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
