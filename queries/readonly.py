"""Refusing writes before a query is sent.

The local server runs writes even in READ sessions (../shared/cypher-compat.md), so read-only
is our job: every catalog query passes this check when the catalog is built, and the future
analyst endpoint will pass its input through it too. Neo4j's READ sessions stay on as well.
"""

from __future__ import annotations

import re

# Clauses and procedures that change data, schema or the server.
_WRITE = re.compile(
    r"\b(CREATE|MERGE|DELETE|DETACH|SET|REMOVE|DROP|FOREACH|LOAD\s+CSV|GRANT|DENY|REVOKE|ALTER|RENAME"
    r"|START\s+DATABASE|STOP\s+DATABASE|TERMINATE|IN\s+TRANSACTIONS|CALL\s+(?:db|dbms|apoc|gds)\.)\b",
    re.IGNORECASE,
)
# String literals, quoted names and comments may contain those words harmlessly.
_INERT = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|//[^\n]*|/\*.*?\*/", re.DOTALL)


class WriteRefused(ValueError):
    """The query contains a clause that writes; it was not sent."""


def assert_read_only(cypher: str) -> str:
    found = _WRITE.search(_INERT.sub(" ", cypher))
    if found:
        raise WriteRefused(f"read-only queries only: {found.group(0).upper()!r} is not allowed")
    return cypher
