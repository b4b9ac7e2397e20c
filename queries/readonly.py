"""Refusing anything but reads before a query is sent.

The local server runs writes even in READ sessions (../shared/cypher-compat.md), so read-only
is our job: every catalog query and every analyst query (`POST /cypher`, `ruralkg cypher`)
passes this check first. Neo4j's READ sessions stay on as well.

A keyword pattern is not enough (GQL `INSERT`, backticked procedure names, keywords split by
odd Unicode spaces all got past one), so the text is tokenized the way Cypher reads it:
strings with their escapes, comments, backticked names, parameters, any Unicode space. On the
tokens the rules are allow-lists:

- the statement starts with a clause known to read (MATCH, OPTIONAL MATCH, WITH, UNWIND,
  RETURN, CALL, optionally after EXPLAIN or PROFILE), and so does every part after UNION;
- no word anywhere (outside strings, comments and backticks; property keys after `.` aside)
  names a clause or command that writes or administers: CREATE, MERGE, SET, DELETE, INSERT,
  LOAD CSV, FOREACH, IN TRANSACTIONS, SHOW, USE, GRANT ...; a property key of that name is
  written `n.set`, a label `n:`SET``;
- `CALL name(...)` only for the procedures in PROCEDURES, written without backticks;
  namespaced functions only from the built-in temporal and spatial namespaces;
- one statement: no `;` but one at the very end;
- characters the servers might read differently (format characters such as a zero-width
  space, unpaired quotes, an unclosed comment, a number running into a word: `LIMIT 1SET`
  is a number and SET to the servers) refuse the query instead of guessing.

SHOW is refused although some SHOW commands only read: they read the server's own state
(users, transactions, settings), answer differently on the two servers, and the schema an
analyst needs is in db.labels(), db.relationshipTypes() and db.propertyKeys().
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Procedures an analyst may CALL: they list the schema and change nothing.
PROCEDURES = frozenset({"db.labels", "db.relationshipTypes", "db.propertyKeys"})
# Namespaces of built-in functions that compute values and touch nothing (date.truncate ...).
FUNCTION_NAMESPACES = frozenset(
    {"date", "datetime", "localdatetime", "localtime", "time", "duration", "point"}
)
READ_STARTS = frozenset({"MATCH", "OPTIONAL", "WITH", "UNWIND", "RETURN", "CALL"})
PREFIXES = frozenset({"EXPLAIN", "PROFILE"})
# Words that begin or belong to a clause or command that writes or administers. None of them
# can appear in a read query outside a string, a backticked name or a property key.
FORBIDDEN = frozenset(
    {
        "CREATE", "MERGE", "SET", "DELETE", "DETACH", "NODETACH", "REMOVE", "DROP", "FOREACH",
        "LOAD", "INSERT", "UPSERT", "GRANT", "DENY", "REVOKE", "ALTER", "RENAME", "TERMINATE",
        "TRANSACTIONS", "PERIODIC", "SHOW", "USE", "ENABLE", "DEALLOCATE", "REALLOCATE",
        "DRYRUN", "IMPORT",
    }
)  # fmt: skip


class WriteRefused(ValueError):
    """The query may write or administer (or cannot be read with certainty); it was not sent."""


@dataclass(frozen=True)
class Token:
    kind: str  # word, name (backticked), string, number, param, punct
    text: str
    at: int

    @property
    def keyword(self) -> str:
        # NFKC so that full-width or compatibility letters spell the same keyword.
        return unicodedata.normalize("NFKC", self.text).upper() if self.kind == "word" else ""


def _is_space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Zs", "Zl", "Zp")


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_" or unicodedata.category(ch) in ("Mn", "Mc", "Pc")


# A number as the servers read it: hex, octal, or decimal with fraction and exponent.
_NUMBER = re.compile(r"0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d[\d_]*)?")


def _not_into_a_word(text: str, start: int, end: int) -> None:
    # The servers read `LIMIT 1SET n.x = 1` as a number, then the keyword SET: were the guard to
    # read one token there, a write would pass it. A number running into a word is refused.
    if end < len(text) and _is_word(text[end]):
        raise WriteRefused(f"a number runs into a word at position {start}: {text[start : end + 1]!r}")


_PUNCT2 = ("<>", "<=", ">=", "=~", "..", "->", "<-", "+=", "||", "::")


def tokenize(text: str) -> list[Token]:
    """Cypher tokens; raises WriteRefused on anything it cannot read with certainty."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if _is_space(ch):
            i += 1
        elif text.startswith("//", i):
            end = min((p for p in (text.find("\n", i), text.find("\r", i)) if p >= 0), default=n)
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise WriteRefused(f"an unclosed comment at position {i}")
            i = end + 2
        elif ch in "'\"":
            j = i + 1
            while j < n and text[j] != ch:
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise WriteRefused(f"an unclosed string at position {i}")
            tokens.append(Token("string", text[i : j + 1], i))
            i = j + 1
        elif ch == "`":
            j = i + 1
            while True:
                j = text.find("`", j)
                if j < 0:
                    raise WriteRefused(f"an unclosed backticked name at position {i}")
                if text.startswith("``", j):  # an escaped backtick inside the name
                    j += 2
                    continue
                break
            tokens.append(Token("name", text[i + 1 : j].replace("``", "`"), i))
            i = j + 1
        elif ch == "$":
            j = i + 1
            if j < n and text[j].isdigit():  # $1: a numbered parameter is digits only
                while j < n and text[j].isdigit():
                    j += 1
                _not_into_a_word(text, i, j)
            while j < n and _is_word(text[j]):
                j += 1
            if j == i + 1 and j < n and text[j] == "`":
                raise WriteRefused(f"a backticked parameter name at position {i}")
            tokens.append(Token("param", text[i:j], i))
            i = j
        elif ch.isdigit():
            match = _NUMBER.match(text, i)
            j = match.end() if match and match.end() > i else i + 1
            _not_into_a_word(text, i, j)
            tokens.append(Token("number", text[i:j], i))
            i = j
        elif _is_word(ch):
            j = i + 1
            while j < n and _is_word(text[j]):
                j += 1
            tokens.append(Token("word", text[i:j], i))
            i = j
        elif text[i : i + 2] in _PUNCT2:
            tokens.append(Token("punct", text[i : i + 2], i))
            i += 2
        elif ch in "()[]{}<>=+-*/%^.,:;|!?&":
            tokens.append(Token("punct", ch, i))
            i += 1
        else:
            raise WriteRefused(f"unexpected character {ch!r} (U+{ord(ch):04X}) at position {i}")
    return tokens


def _dotted_name(tokens: list[Token], i: int) -> tuple[str, int, bool]:
    """The dotted name starting at tokens[i]: (name, index after it, whether any part was backticked)."""
    parts, quoted = [], False
    while i < len(tokens) and tokens[i].kind in ("word", "name"):
        parts.append(tokens[i].text)
        quoted |= tokens[i].kind == "name"
        if i + 1 < len(tokens) and tokens[i + 1].text == "." and i + 2 < len(tokens):
            i += 2
        else:
            i += 1
            break
    return ".".join(parts), i, quoted


def _check_start(tokens: list[Token], i: int, where: str) -> None:
    while i < len(tokens) and tokens[i].keyword in PREFIXES and where == "the query":
        i += 1
    if i >= len(tokens):
        raise WriteRefused(f"{where} is empty")
    first = tokens[i]
    if first.keyword not in READ_STARTS:
        raise WriteRefused(
            f"{where} must start with a reading clause ({', '.join(sorted(READ_STARTS))}), not {first.text!r}"
        )


def assert_read_only(cypher: str) -> str:
    """The query, unchanged, if it can only read; otherwise WriteRefused naming the reason."""
    tokens = tokenize(cypher)
    for k, tok in enumerate(tokens):
        if tok.text == ";" and tok.kind == "punct" and k != len(tokens) - 1:
            raise WriteRefused("one statement only: a ';' separates statements")
    body = tokens[:-1] if tokens and tokens[-1].text == ";" else tokens
    _check_start(body, 0, "the query")
    for k, tok in enumerate(body):
        prev = body[k - 1].text if k else ""
        if tok.kind == "word" and prev != "." and tok.keyword in FORBIDDEN:
            raise WriteRefused(f"read-only queries only: {tok.keyword!r} is not allowed")
        if tok.keyword == "UNION":
            skip = k + 1 < len(body) and body[k + 1].keyword in ("ALL", "DISTINCT")
            _check_start(body, k + 1 + skip, "the part after UNION")
        if tok.keyword == "CALL" and prev != ".":
            if k + 1 >= len(body):
                raise WriteRefused("CALL names no procedure")
            if body[k + 1].text in ("{", "("):  # a subquery, with or without a variable scope
                continue
            name, _, quoted = _dotted_name(body, k + 1)
            if quoted:
                raise WriteRefused(f"procedure names may not be backticked: `{name}`")
            if name not in PROCEDURES:
                raise WriteRefused(
                    f"procedure {name!r} is not allowed; allowed: {', '.join(sorted(PROCEDURES))}"
                )
        elif (
            tok.kind in ("word", "name")
            and prev != "."
            and body[k - 1].keyword != "CALL"
            and (k + 2 < len(body) and body[k + 1].text == ".")
        ):
            name, after, quoted = _dotted_name(body, k)
            if after < len(body) and body[after].text == "(" and "." in name:
                namespace = name.split(".")[0]
                if quoted or namespace.lower() not in FUNCTION_NAMESPACES:
                    raise WriteRefused(f"function {name!r} is not allowed (only built-in functions)")
    return cypher
