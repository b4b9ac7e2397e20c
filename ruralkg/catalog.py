"""The query catalog from Python, as DataFrames.

    from ruralkg import catalog
    catalog.entries()                                   # every entry, with its parameters
    catalog.describe("shared-experts")                  # one entry's parameters in full
    catalog.run("shared-experts", village="village:fujian.zhouning.lidun.qinxi")
    catalog.result("alliance-tree", id="alliance:...")  # the typed answer, nested as the API gives it
    catalog.draw("neighborhood", id="village:...", depth=2)  # a network answer, drawn

Parameters are validated by the entry's own model, as the API's JSON body is (`POST
/queries/{name}`): same types, bounds and messages. Queries run in a read session on the
service's settings, through `queries.run`, like `ruralkg query`.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any, get_args

import pandas as pd
from neo4j import Driver
from pydantic import BaseModel, ValidationError

# The API's own reading of a validation error, so both name the same fields the same way.
from api.problems import field_errors
from graph.connection import GraphUnavailable, connect, session
from graph.settings import Settings, get_settings
from queries import CATALOG, get_entry
from queries import run as run_entry
from queries.catalog import Entry, NotFound, UnknownQuery
from queries.output import records_of
from ruralkg.errors import BadParameters, GraphUnreachable, ReadableError
from ruralkg.network import notebook_frame


class UnknownEntry(ReadableError):
    title = "Unknown catalog entry"


class EntityNotFound(ReadableError):
    title = "Not found"


def _entry(name: str) -> Entry[Any, Any]:
    try:
        return get_entry(name)
    except UnknownQuery:
        raise UnknownEntry(
            f"no entry named {name!r}; the catalog has: {', '.join(sorted(CATALOG))}"
        ) from None


def _type_of(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return " | ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    if "anyOf" in schema:
        return " | ".join(_type_of(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list[{_type_of(schema.get('items', {}))}]"
    return str(schema.get("type", "any"))


def _bounds(schema: dict[str, Any]) -> str:
    parts = []
    for key, sign in (
        ("minimum", ">="),
        ("exclusiveMinimum", ">"),
        ("maximum", "<="),
        ("exclusiveMaximum", "<"),
    ):
        if key in schema:
            parts.append(f"{sign} {schema[key]}")
    for key, words in (("minLength", "length >="), ("maxLength", "length <=")):
        if key in schema:
            parts.append(f"{words} {schema[key]}")
    return ", ".join(parts)


def parameters(name: str) -> pd.DataFrame:
    """One row per parameter of an entry: its type, whether it is required, its default, its
    bounds and what it means, read from the JSON schema the API publishes at `GET /queries`."""
    schema = _entry(name).params.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    rows = []
    for param, prop in schema.get("properties", {}).items():
        resolved = _resolve(prop, defs)
        rows.append(
            {
                "parameter": param,
                "type": _type_of(resolved),
                "required": param in required,
                "default": json.dumps(prop["default"], ensure_ascii=False) if "default" in prop else "",
                "bounds": _bounds(resolved) or _bounds(prop),
                "description": prop.get("description", ""),
            }
        )
    return pd.DataFrame(rows, columns=["parameter", "type", "required", "default", "bounds", "description"])


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A property schema with its $refs (enums of labels, roles ...) replaced by what they name."""
    if "$ref" in schema:
        return _resolve(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    out = dict(schema)
    if "anyOf" in out:
        out["anyOf"] = [_resolve(s, defs) for s in out["anyOf"]]
    if "items" in out:
        out["items"] = _resolve(out["items"], defs)
    return out


def entries() -> pd.DataFrame:
    """Every entry of the catalog: its name, what it answers (Chinese, English), its parameters."""
    rows = [
        {
            "name": entry.name,
            "summary": entry.summary_zh,
            "summary_en": entry.summary_en,
            "parameters": ", ".join(
                f"{p}*" if f.is_required() else p for p, f in entry.params.model_fields.items()
            ),
            "result": entry.result.__name__,
        }
        for entry in CATALOG.values()
    ]
    return pd.DataFrame(rows).sort_values("name", ignore_index=True)


@dataclass(frozen=True)
class Description:
    """One entry, for reading: shown as a heading and a table of its parameters."""

    name: str
    summary: str
    summary_en: str
    result: str
    parameters: pd.DataFrame

    def __str__(self) -> str:
        table = self.parameters.to_string(index=False) if len(self.parameters) else "(no parameters)"
        return f"{self.name}: {self.summary}\n{self.summary_en}\nresult: {self.result}\n\n{table}"

    def _repr_html_(self) -> str:
        table = self.parameters.to_html(index=False) if len(self.parameters) else "<p>(no parameters)</p>"
        return (
            f"<h4><code>{html.escape(self.name)}</code></h4>"
            f"<p>{html.escape(self.summary)}<br><em>{html.escape(self.summary_en)}</em><br>"
            f"result: <code>{html.escape(self.result)}</code></p>{table}"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def describe(name: str) -> Description:
    """One entry: what it answers and each parameter's type, default, bounds and meaning."""
    entry = _entry(name)
    return Description(
        name=entry.name,
        summary=entry.summary_zh,
        summary_en=entry.summary_en,
        result=entry.result.__name__,
        parameters=parameters(name),
    )


def validate(name: str, **params: Any) -> BaseModel:
    """The entry's parameter model, or BadParameters naming every field that failed, as the
    API's 400 answer does."""
    entry = _entry(name)
    try:
        return entry.params.model_validate(params)
    except ValidationError as exc:
        errors = field_errors(exc.errors())
        lines = "\n".join(f"  {e['field']}: {e['message']}" for e in errors)
        raise BadParameters(
            f"{name} refused its parameters:\n{lines}\n(catalog.describe({name!r}) lists them)", errors
        ) from None


def result(
    name: str, /, settings: Settings | None = None, driver: Driver | None = None, **params: Any
) -> BaseModel:
    """The entry's typed answer (pydantic), nested as the API returns it. `settings` and
    `driver` default to the environment's graph and the process's driver (`connect()`)."""
    entry = _entry(name)
    checked = validate(name, **params)
    settings = settings or get_settings()
    try:
        with session(driver or connect(settings), settings) as s:
            return run_entry(s, settings, entry, checked)
    except NotFound as exc:
        raise EntityNotFound(str(exc)) from None
    except GraphUnavailable as exc:
        raise GraphUnreachable(str(exc)) from None


def run(
    name: str, /, settings: Settings | None = None, driver: Driver | None = None, **params: Any
) -> pd.DataFrame:
    """The entry's answer as a DataFrame: one row per item of a list (a single answer is one
    row). Ids and names read as `name (id)`, lists as names joined by `; `, numbers stay
    numbers. `result()` gives the nested answer."""
    answer = result(name, settings=settings, driver=driver, **params)
    return pd.DataFrame(records_of(answer), columns=_columns(_entry(name).result))


@dataclass(frozen=True)
class Drawing:
    """A network as a notebook output (an iframe with everything inlined)."""

    html: str

    def _repr_html_(self) -> str:
        return self.html


def draw(
    name: str, /, settings: Settings | None = None, driver: Driver | None = None, **params: Any
) -> Drawing:
    """A network-shaped answer (`neighborhood`, `path`) drawn as the explorer draws it."""
    data = result(name, settings=settings, driver=driver, **params).model_dump(mode="json")
    if "nodes" in data and "edges" in data:  # the centre is not among a neighbourhood's nodes
        nodes, edges = [data["center"], *data["nodes"]], data["edges"]
    elif "paths" in data:
        nodes = list({n["id"]: n for p in data["paths"] for n in p["nodes"]}.values())
        edges = [e for p in data["paths"] for e in p["edges"]]
    else:
        raise ReadableError(f"{name} does not answer with a network: draw() takes neighborhood or path")
    return Drawing(notebook_frame(nodes, edges))


def _columns(model: type[BaseModel]) -> list[str]:
    """The columns even of an empty page: the item model's fields."""
    fields = model.model_fields
    if {"items", "total"} <= fields.keys():
        (item,) = get_args(fields["items"].annotation)
        return list(item.model_fields)
    return list(fields)
