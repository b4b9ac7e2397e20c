"""The graph's data version: a token that every write through our code changes.

Readers that keep answers (the API's answer cache, api/cache.py) read it, one tiny query, to
know whether the graph changed since. The token lives on one node, `(:DataVersion {id:
'graph'})`, outside the `Entity` model (no catalog query, export or dump sees it), and is a
fresh random value at each write, so a graph rebuilt from scratch never repeats an old one; a
graph without the node (empty, wiped, imported with neo4j-admin) reads as no version at all.

Every write session opened with `graph.connection.session(..., write=True)` (the loader, the
regions and the synthetic overlay all write through it) is a `VersionedSession`: each
transaction it runs sets a new token in the same transaction, so the token changes exactly
when the data does, and a crash between the two cannot happen. Writes made any other way
(raw Cypher from a browser, a bulk import) do not change it: the cache's TTL bounds those.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

import neo4j
from neo4j import ManagedTransaction

BUMP = "MERGE (v:DataVersion {id: 'graph'}) SET v.token = $token"
# Sorted and collected: one answer whatever the server's order (and two nodes, from two
# concurrent first MERGEs on a server without a constraint, still read as one value).
READ = "MATCH (v:DataVersion) WITH v.token AS token ORDER BY token RETURN collect(token) AS tokens"


def bump(tx: ManagedTransaction) -> None:
    tx.run(BUMP, token=uuid.uuid4().hex).consume()


def token_of(tokens: list[str]) -> str | None:
    """The version as one value: None for a graph that has never been written through us."""
    return "+".join(tokens) if tokens else None


class VersionedSession:
    """A write session whose every committed unit of work also changes the data version.

    `execute_write` runs the bump inside the caller's transaction (after the caller's work,
    so a unit that fails changes nothing); an auto-commit `run` or an explicit transaction is
    followed by a bump of its own when the session closes. Everything else is the driver's
    session, unchanged.
    """

    def __init__(self, inner: neo4j.Session) -> None:
        self._inner = inner
        self._ran = False

    def __enter__(self) -> VersionedSession:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            if self._ran and exc[0] is None:
                self._inner.execute_write(bump)
        finally:
            self._inner.__exit__(*exc)

    def execute_write(self, work: Any, *args: Any, **kwargs: Any) -> Any:
        @functools.wraps(work)  # keeps unit_of_work's timeout and metadata
        def versioned(tx: ManagedTransaction, *a: Any, **kw: Any) -> Any:
            out = work(tx, *a, **kw)
            bump(tx)
            return out

        return self._inner.execute_write(versioned, *args, **kwargs)

    def run(self, *args: Any, **kwargs: Any) -> neo4j.Result:
        self._ran = True
        return self._inner.run(*args, **kwargs)

    def begin_transaction(self, *args: Any, **kwargs: Any) -> neo4j.Transaction:
        # An explicit transaction (the notebooks' `%%cypher --write`) commits when its caller
        # says so: the bump follows when the session closes.
        self._ran = True
        return self._inner.begin_transaction(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
