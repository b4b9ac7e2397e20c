"""The IPython extension: `%load_ext ruralkg.notebook` adds the `%%cypher` and `%cypher` magics.

    %%cypher --limit 50 --out shared
    MATCH (p:Person)-[:DISPATCHED_TO]->(v:Village {id: $village})
    RETURN p.name AS person, v.name AS village

returns a pandas DataFrame. `$village` is bound from the notebook's variable `village` (only
the parameters the query names are sent). When the result holds nodes, relationships or paths,
an interactive network is drawn with the table, its scripts inlined so it works offline.
Queries are read-only unless the cell says `--write`; errors are shown as one readable block.
On the local server, the extension keeps the server up for the kernel's life (graph/keeper.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import keyword
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import HTML, display
from neo4j import RoutingControl
from neo4j.exceptions import DriverError, Neo4jError

from graph import connection
from graph.connection import GraphUnavailable, connect
from graph.keeper import Keeper
from graph.settings import get_settings, redact_uri
from ruralkg.cypher import DEFAULT_LIMIT, MAX_LIMIT, referenced_parameters, run_cypher
from ruralkg.errors import BadParameters, MissingVariable
from ruralkg.network import notebook_frame


class _Options(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n\n{self.format_usage()}")


def _limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_LIMIT}")
    return value


def _variable_name(text: str) -> str:
    if not text.isidentifier() or keyword.iskeyword(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a Python variable name")
    return text


OPTIONS = _Options(prog="%%cypher", add_help=False, description="Run Cypher on the ruralkg graph.")
OPTIONS.add_argument(
    "-l",
    "--limit",
    type=_limit,
    default=DEFAULT_LIMIT,
    help=f"at most this many rows (default {DEFAULT_LIMIT})",
)
OPTIONS.add_argument(
    "-o", "--out", type=_variable_name, metavar="NAME", help="also save the DataFrame as NAME"
)
OPTIONS.add_argument(
    "--write", action="store_true", help="allow writes: run in a WRITE session and commit (off by default)"
)
OPTIONS.add_argument("--no-network", action="store_true", help="do not draw the nodes and relationships")
OPTIONS.add_argument("-q", "--quiet", action="store_true", help="show nothing (with --out: only save)")
# Options that take a value: for the line magic, the Cypher starts after the options.
_VALUED = {"-l", "--limit", "-o", "--out"}


def split_line(line: str) -> tuple[list[str], str]:
    """The leading options of a line magic, and the Cypher after them, untouched (quotes and
    all: shell-style splitting would eat the quotes of Cypher strings)."""
    options: list[str] = []
    rest = line.lstrip()
    expect_value = False
    while rest and (expect_value or rest.startswith("-")):
        token, rest = [*rest.split(maxsplit=1), ""][:2]
        options.append(token)
        expect_value = not expect_value and token in _VALUED
    return options, rest


def bindable(name: str, value: Any) -> Any:
    """A notebook value as a driver parameter: numpy and pandas scalars, Series and arrays
    become Python values and lists; anything the driver cannot send is refused by name."""
    if value is None or isinstance(
        value, bool | int | float | str | bytes | dt.date | dt.time | dt.timedelta
    ):
        return value
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "tolist"):  # numpy arrays and scalars, pandas Series and Index
        return bindable(name, value.tolist())
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [bindable(name, v) for v in items]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: bindable(name, v) for k, v in value.items()}
    message = (
        f"${name}: a {type(value).__name__} cannot be sent to the graph (use text, numbers, lists or dicts)"
    )
    raise BadParameters(message, [{"field": name, "message": message}])


def bind(cypher: str, namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters the query names, from the notebook's variables; the rest stay home."""
    names = referenced_parameters(cypher)
    missing = [n for n in names if n not in namespace]
    if missing:
        listed = ", ".join(f"${n}" for n in missing)
        raise MissingVariable(
            f"the query uses {listed}, but the notebook has no variable of that name.\n"
            f"Set it in a cell before, e.g. {missing[0]} = 'village:fujian.zhouning.lidun.qinxi'"
        )
    return {n: bindable(n, namespace[n]) for n in names}


@magics_class
class CypherMagics(Magics):
    @line_cell_magic
    def cypher(self, line: str, cell: str | None = None) -> pd.DataFrame | None:
        """Run Cypher on the ruralkg graph and return a DataFrame.

        %cypher [options] MATCH ... RETURN ...     (one line)
        %%cypher [options]                          (the rest of the cell is the query)

        Options:
          -l, --limit N     at most N rows (default 1000, at most 100000)
          -o, --out NAME    also save the DataFrame in the variable NAME
          --write           allow writes (a WRITE session, committed); read-only otherwise
          --no-network      do not draw the nodes and relationships of the result
          -q, --quiet       show nothing

        $name in the query is bound from the notebook variable `name`.
        """
        if cell is None:
            tokens, query = split_line(line)
        else:
            tokens, query = line.split(), cell
        options = OPTIONS.parse_args(tokens)
        if not query.strip():
            raise UsageError("no query: write the Cypher after %cypher, or below %%cypher")
        namespace = self.shell.user_ns if self.shell is not None else {}
        result = run_cypher(query, bind(query, namespace), limit=options.limit, write=options.write)
        if options.out:
            namespace[options.out] = result.frame
        if options.quiet:
            return None
        if result.cut == "rows":
            print(
                f"showing the first {result.limit} rows; the query returned more "
                f"(--limit N raises the cap, up to {MAX_LIMIT})"
            )
        elif result.cut == "bytes":
            print(
                f"showing the first {len(result.frame)} rows: the answer reached "
                f"RURALKG_MAX_ANSWER_BYTES ({result.max_bytes} bytes)"
            )
        if result.counters:
            print("written: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.counters.items()))
        if result.graph and not options.no_network:
            display(HTML(notebook_frame(result.graph.nodes, result.graph.edges)))
        return result.frame


SOURCES = "MATCH (s:Source) RETURN count(s) AS sources"


def greeting() -> str:
    """Which graph the magics use and whether it holds data: a notebook started outside
    `make notebook` may be looking at an empty local server in another data dir."""
    settings = get_settings()
    where = (
        f"the local graph server (data in {settings.data_path})"
        if settings.uses_local_server
        else redact_uri(settings.neo4j_uri or "")
    )
    try:
        records = (
            connect(settings)
            .execute_query(SOURCES, database_=settings.neo4j_database, routing_=RoutingControl.READ)
            .records
        )
    except (GraphUnavailable, Neo4jError, DriverError) as exc:
        return f"ruralkg: the graph does not answer yet ({exc}); %%cypher will say more"
    sources = records[0]["sources"]
    line = f"ruralkg: {where}, {sources} sources loaded. %%cypher is read-only unless --write."
    if not sources:
        line += "\nThe graph is empty: `ruralkg load` loads the curated cases (`make notebook` does it)."
    return line


CJK_FONT_FILES = ("NotoSansCJK", "NotoSerifCJK", "wqy-", "SourceHanSans")
"""Font files that draw Chinese (Debian's fonts-noto-cjk, fonts-wqy-*, Source Han)."""


def use_cjk_font() -> list[str]:
    """Make matplotlib draw Chinese: its font list is a cache, and one built before the CJK
    font was installed lacks it, so every character draws as a box. The CJK font files on the
    machine that the list lacks are added to it, and its CJK families put first in
    `font.sans-serif`. Returns those families (none: no CJK font is installed)."""
    from matplotlib import font_manager, pyplot

    manager = font_manager.fontManager
    known = {Path(f.fname).name for f in manager.ttflist}
    for path in font_manager.findSystemFonts():
        name = Path(path).name
        if name not in known and any(mark in name for mark in CJK_FONT_FILES):
            manager.addfont(path)
    families = sorted(
        {f.name for f in manager.ttflist if any(m in Path(f.fname).name for m in CJK_FONT_FILES)}
    )
    sans = [f for f in families if "Sans" in f or "WenQuanYi" in f] or families
    rest = [f for f in pyplot.rcParams["font.sans-serif"] if f not in sans]
    pyplot.rcParams["font.sans-serif"] = [*sans, *rest]
    pyplot.rcParams["axes.unicode_minus"] = False
    return sans


_keeper: Keeper | None = None


def keep_local_server() -> Keeper | None:
    """Watch the local server for the kernel's life (graph/keeper.py): a server that exits or
    stops answering is started again, and the next cell reconnects (the driver is reopened)."""
    global _keeper
    settings = get_settings()
    if _keeper is None and settings.uses_local_server and settings.heal:
        _keeper = Keeper(settings, on_restart=connection.close)
        _keeper.start()
    return _keeper


def load_ipython_extension(ipython: InteractiveShell) -> None:
    ipython.register_magics(CypherMagics)
    use_cjk_font()
    print(greeting())
    keep_local_server()
