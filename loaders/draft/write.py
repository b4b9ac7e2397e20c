"""Draft files on disk, and the case file a reviewed draft becomes.

A draft file is the case file format (docs/data-format.md) plus what only a draft has:
`status: draft` at the top, and per record `confidence` (0-1) and `sentence` (the index of the
article's sentence the evidence comes from); a place also has its 12-digit `code`, and where
the official list offers several divisions or none, `candidates` ({code, name, path}), `absent`
and `reason`. `case_file` drops all of that, keeps the accepted records, and leaves out what
a case file refuses (an entity tied to nothing, a relation to a rejected entity).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

DRAFT_ONLY = frozenset({"confidence", "sentence", "code", "candidates", "absent", "reason", "decision"})
DRAFT_SUFFIX = ".draft.yaml"


class _Dumper(yaml.SafeDumper):
    """Block style, Chinese as itself, lists of records readable by a person."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def dump(mapping: dict[str, Any]) -> str:
    return yaml.dump(mapping, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)


def write_draft(mapping: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump(mapping), encoding="utf-8")
    return path


def read_draft(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("status") != "draft":
        raise ValueError(f"{path} is not a draft file (no `status: draft`)")
    return data


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    # a Person's `role` is the draft's reading of the role it shows on its relations
    drop = DRAFT_ONLY | ({"role"} if record.get("label") == "Person" else set())
    return {k: v for k, v in record.items() if (k not in drop and v is not None) or k == "year"}


def case_file(draft: dict[str, Any], rejected: Iterable[str] = ()) -> dict[str, Any]:
    """The case file of a reviewed draft: every record not rejected (records are named by
    entity id, quantity id, or `TYPE from -> to` for relations), tied together as the loader
    requires; places without a chosen division keep their id and stay unresolved, as the
    curated villages the 2023 list lacks do."""
    dropped = set(rejected)
    entities = [e for e in draft.get("entities", []) if e["id"] not in dropped]
    ids = {e["id"] for e in entities}
    relations = [
        r
        for r in draft.get("relations", [])
        if relation_key(r) not in dropped and r["from"] in ids and r["to"] in ids
    ]
    quantities = [q for q in draft.get("quantities", []) if q["id"] not in dropped and q["subject"] in ids]
    used = {r["from"] for r in relations} | {r["to"] for r in relations} | {q["subject"] for q in quantities}
    entities = [e for e in entities if e["id"] in used]
    ids = {e["id"] for e in entities}
    relations = [r for r in relations if r["from"] in ids and r["to"] in ids]
    return {
        "source": dict(draft["source"]),
        "entities": [_clean(e) for e in entities],
        "relations": [_clean(r) for r in relations],
        "quantities": [_clean(q) for q in quantities],
    }


def relation_key(r: dict[str, Any]) -> str:
    return f"{r['type']} {r['from']} -> {r['to']}"
