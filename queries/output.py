"""Catalog results as flat rows: text for the shell (JSON, a table, CSV), cells for DataFrames."""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        if "name" in value:
            return f"{value['name']} ({value['id']})" if "id" in value else str(value["name"])
        return ", ".join(f"{k}={_short(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return "; ".join(_short(v) for v in value)
    return str(value)


def _short(value: Any) -> str:
    """In a list or a nested map the names say enough; the ids are in the JSON format."""
    if isinstance(value, dict) and "name" in value:
        return str(value["name"])
    return _cell(value)


def _items(result: BaseModel) -> list[dict[str, Any]]:
    data = result.model_dump(mode="json")
    return data["items"] if {"items", "total"} <= data.keys() else [data]


def rows_of(result: BaseModel) -> list[dict[str, str]]:
    """One flat row per item of a page, or one row for a single result."""
    return [{key: _cell(value) for key, value in item.items()} for item in _items(result)]


def records_of(result: BaseModel) -> list[dict[str, Any]]:
    """The rows of `rows_of`, with numbers, booleans and nulls kept as they are: a DataFrame
    built from them sums, sorts and plots its numeric columns."""
    return [
        {
            key: value if value is None or isinstance(value, int | float) else _cell(value)
            for key, value in item.items()
        }
        for item in _items(result)
    ]


def render(result: BaseModel, fmt: str) -> str:
    if fmt == "json":
        return result.model_dump_json(indent=2)
    rows = rows_of(result)
    return render_rows(list(dict.fromkeys(key for row in rows for key in row)), rows, fmt)


def render_rows(columns: list[str], rows: list[dict[str, Any]], fmt: str) -> str:
    """Rows as a table or CSV; cells that are lists or maps are shortened to their names."""
    rows = [{key: _cell(value) for key, value in row.items()} for row in rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    table = Table(*columns, show_lines=True)
    for row in rows:
        table.add_row(*(row.get(c, "") for c in columns))
    console = Console(width=200, record=True)
    with console.capture() as captured:
        console.print(table)
    return captured.get()
