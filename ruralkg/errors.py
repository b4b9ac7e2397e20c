"""Errors an analyst can act on, shown in a notebook as one block of text, not a traceback.

IPython asks an exception for `_render_traceback_()` before formatting a traceback of its own,
so these render as their message alone in JupyterLab, classic Notebook and VS Code, while a
cell that raises one still fails (a notebook run top to bottom stops there).
"""

from __future__ import annotations


class ReadableError(Exception):
    """The message says everything: what went wrong and what to do about it."""

    title = "ruralkg error"

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[1;31m{self.title}\x1b[0m", *str(self).splitlines()]


class CypherError(ReadableError):
    """The graph refused or failed the query; the message is the server's own."""

    title = "Cypher error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code

    def _render_traceback_(self) -> list[str]:
        head = f"{self.title} ({self.code})" if self.code else self.title
        return [f"\x1b[1;31m{head}\x1b[0m", *str(self).splitlines()]


class WriteNotAllowed(ReadableError):
    """The query writes and the cell did not say --write: nothing was sent."""

    title = "Write refused"


class MissingVariable(ReadableError):
    """The query names a $parameter that no notebook variable holds."""

    title = "Missing parameter"


class BadParameters(ReadableError):
    """A catalog entry's parameters failed validation, exactly as the API would refuse them."""

    title = "Bad parameters"

    def __init__(self, message: str, errors: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.errors = errors


class GraphUnreachable(ReadableError):
    """The graph cannot be reached; the message names where it was looked for."""

    title = "Graph unavailable"


class QueryTimedOut(CypherError):
    """The query ran past RURALKG_QUERY_TIMEOUT and was stopped."""

    title = "Query timed out"
