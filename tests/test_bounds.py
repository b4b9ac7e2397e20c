"""Every input is bounded: each catalog entry's string, list and integer parameters carry a
limit (entries added later too), so no caller can send the graph a 40 MB string."""

from __future__ import annotations

from typing import Any

import pytest

from queries import CATALOG
from queries.analyst import CypherRequest


def _unbounded(name: str, schema: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    if "$ref" in schema:
        return _unbounded(name, defs[schema["$ref"].split("/")[-1]], defs)
    if "anyOf" in schema:
        return [p for sub in schema["anyOf"] for p in _unbounded(name, sub, defs)]
    kind = schema.get("type")
    if "enum" in schema or "const" in schema or kind in (None, "null", "boolean", "number"):
        return []
    if kind == "string" and "maxLength" not in schema:
        return [f"{name}: a string without maxLength"]
    if kind == "integer" and "maximum" not in schema:
        return [f"{name}: an integer without maximum"]
    if kind == "array":
        found = [] if "maxItems" in schema else [f"{name}: a list without maxItems"]
        return found + _unbounded(f"{name}[]", schema.get("items", {}), defs)
    return []


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_catalog_parameters_are_bounded(name: str) -> None:
    schema = CATALOG[name].params.model_json_schema()
    defs = schema.get("$defs", {})
    problems = [p for key, prop in schema["properties"].items() for p in _unbounded(key, prop, defs)]
    assert not problems, f"{name}: {problems}"


def test_cypher_request_is_bounded() -> None:
    schema = CypherRequest.model_json_schema()
    assert schema["properties"]["query"]["maxLength"] and schema["properties"]["params"]["maxProperties"]
