"""The graph as the CSV files `neo4j-admin database import full` reads, for national first loads.

The live loader stays the path for updates; a first load of millions of nodes into an empty
Neo4j is minutes with the offline importer. One file per label (`nodes/<Label>.csv`: `id:ID`,
`:LABEL`, typed property columns) and per relationship type (`relationships/<TYPE>.csv`:
`:START_ID`, `:END_ID`, `:TYPE`, typed property columns). Our ids are unique graph-wide, so
one global id space serves; the `id:ID` column is also stored as the `id` property.

Streamed: each file takes two passes over one query's results (the column types, then the
rows), so memory holds one record and the column types, never the graph. Arrays (labels,
`sources`, `evidence`, `aliases`) are joined with ARRAY_DELIMITER, the unit separator, which
no text of ours contains (checked: an element holding it is an error, never a silent split).
"""

from __future__ import annotations

import csv
import datetime as dt
import shlex
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import neo4j.time
from neo4j import Driver

from graph.connection import session
from graph.model import LABELS, RELATIONSHIP_TYPES
from graph.settings import Settings

ARRAY_DELIMITER = "\x1f"
ARRAY_DELIMITER_OPTION = "U+001F"  # how neo4j-admin's --array-delimiter names it
# Labels and relationship types come only from graph.model's lists.
NODES = "MATCH (n:{label}) RETURN n.id AS id, labels(n) AS labels, properties(n) AS props"
RELATIONSHIPS = "MATCH (a)-[r:{type}]->(b) RETURN a.id AS start, b.id AS end, properties(r) AS props"


class ExportError(RuntimeError):
    pass


def _scalar_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, neo4j.time.DateTime | dt.datetime):
        return "datetime"
    if isinstance(value, neo4j.time.Date | dt.date):
        return "date"
    return "string"


def _type_of(value: Any) -> str | None:
    """The neo4j-admin column type of a value; None for an empty list (no element to tell)."""
    if isinstance(value, list):
        return _scalar_type(value[0]) + "[]" if value else None
    return _scalar_type(value)


def _merge(a: str | None, b: str | None) -> str | None:
    if a is None or a == b:
        return b
    if b is None:
        return a
    if {a.removesuffix("[]"), b.removesuffix("[]")} == {"long", "double"} and a.endswith("[]") == b.endswith(
        "[]"
    ):
        return "double" + ("[]" if a.endswith("[]") else "")
    raise ExportError(
        f"a property holds both {a} and {b} values: one type per property (cypher-compat rule 3)"
    )


def _text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "iso_format"):
        return str(value.iso_format())
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if ARRAY_DELIMITER in text:
        raise ExportError(f"{where}: a value holds the array delimiter U+001F")
    return text


def _cell(value: Any, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ARRAY_DELIMITER.join(_text(v, where) for v in value)
    return _text(value, where)


@dataclass
class ExportReport:
    directory: Path
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    files: list[tuple[str, Path]] = field(default_factory=list)  # (--nodes or --relationships, path)

    def command(self, database: str = "neo4j") -> str:
        """The exact `neo4j-admin` command that imports these files into an empty database."""
        parts = [
            "neo4j-admin",
            "database",
            "import",
            "full",
            database,
            "--overwrite-destination",
            "--id-type=string",
            f"--array-delimiter={ARRAY_DELIMITER_OPTION}",
            "--multiline-fields=true",
            *(f"--{kind}={path}" for kind, path in self.files),
        ]
        return " ".join(shlex.quote(p) for p in parts)


def _write_file(
    path: Path,
    fixed: list[str],
    records: Callable[[], Iterable[neo4j.Record]],
    head: Callable[[neo4j.Record], list[str]],
    where: Callable[[neo4j.Record], str],
) -> int:
    """Two passes over the records: the property columns and their types, then the rows."""
    types: dict[str, str | None] = {}
    for rec in records():
        for key, value in rec["props"].items():
            if key != "id":
                try:
                    types[key] = _merge(types.get(key), _type_of(value))
                except ExportError as exc:
                    raise ExportError(f"{where(rec)} `{key}`: {exc}") from None
    keys = sorted(types)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*fixed, *(f"{k}:{types[k] or 'string[]'}" for k in keys)])
        for rec in records():
            props = rec["props"]
            writer.writerow([*head(rec), *(_cell(props.get(k), f"{where(rec)} `{k}`") for k in keys)])
            count += 1
    return count


def export_neo4j_admin(
    driver: Driver, settings: Settings, directory: Path, on_file: Callable[[str, int], None] | None = None
) -> ExportReport:
    """Write every node and relationship under `directory` (nodes/, relationships/)."""
    report = ExportReport(directory)
    (directory / "nodes").mkdir(parents=True, exist_ok=True)
    (directory / "relationships").mkdir(parents=True, exist_ok=True)
    with session(driver, settings) as s:

        def stream(query: str) -> Callable[[], Iterator[neo4j.Record]]:
            return lambda: iter(s.run(query))

        for label in LABELS:
            path = directory / "nodes" / f"{label}.csv"
            n = _write_file(
                path,
                ["id:ID", ":LABEL"],
                stream(NODES.format(label=label)),
                lambda r: [_cell(r["id"], "id"), _cell(sorted(r["labels"]), f"{r['id']} labels")],
                lambda r: f"node {r['id']}",
            )
            _keep(report, "nodes", label, path, n, report.nodes, on_file)
        for rel_type in RELATIONSHIP_TYPES:
            path = directory / "relationships" / f"{rel_type}.csv"
            n = _write_file(
                path,
                [":START_ID", ":END_ID", ":TYPE"],
                stream(RELATIONSHIPS.format(type=rel_type)),
                *_relationship_columns(rel_type),
            )
            _keep(report, "relationships", rel_type, path, n, report.relationships, on_file)
    return report


def _relationship_columns(
    rel_type: str,
) -> tuple[Callable[[neo4j.Record], list[str]], Callable[[neo4j.Record], str]]:
    def head(r: neo4j.Record) -> list[str]:
        return [_cell(r["start"], "start"), _cell(r["end"], "end"), rel_type]

    def where(r: neo4j.Record) -> str:
        return f"relationship {r['start']} -[{rel_type}]-> {r['end']}"

    return head, where


def _keep(
    report: ExportReport,
    kind: str,
    name: str,
    path: Path,
    count: int,
    counts: dict[str, int],
    on_file: Callable[[str, int], None] | None,
) -> None:
    if count == 0:
        path.unlink()
        return
    counts[name] = count
    report.files.append((kind, path))
    if on_file:
        on_file(name, count)
