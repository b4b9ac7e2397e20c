"""A person's review of a draft: accepted, mended and rejected proposals, made a case file.

Records are named as the page names them: an entity or quantity by its id, a relation by
`TYPE from -> to` (write.relation_key). A mended entity may change its name, label, kind, role
or (a place) the division chosen among its candidates; its id follows (the label's prefix, the
chosen division's region path) and every relation and figure that named the old id is moved.
The result is validated with every curated file before it is written, so a saved review is a
case file `ruralkg check` passes and `ruralkg load` takes.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph import model
from graph.divisions import full_code, parent_code, short_code
from loaders.casefile import CaseValidationError, discover, validate_cases
from loaders.draft.draft import place_id
from loaders.draft.write import case_file, dump, relation_key
from loaders.gazetteer import Division
from loaders.regions import division_kind

_ENTITY_EDITS = ("name", "label", "kind", "role")
_RELATION_EDITS = ("type", "role")
_KINDLESS_DEFAULT = {
    "Branch": "other",
    "Project": "other",
    "Enterprise": "other",
    "Organization": "other",
    "Practice": "mechanism",
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,120}$")


class ReviewError(ValueError):
    """An edit the draft cannot take (an unknown record, a label or code it does not offer)."""


@dataclass
class Review:
    rejected: list[str] = field(default_factory=list)
    edits: dict[str, dict[str, str]] = field(default_factory=dict)


def draft_name_ok(name: str) -> bool:
    """A draft is named by its file's stem: letters, digits, dot, dash, underscore."""
    return bool(_NAME.match(name)) and ".." not in name


def _rename(draft: dict[str, Any], old: str, new: str) -> None:
    for r in draft.get("relations", []):
        r["from"] = new if r["from"] == old else r["from"]
        r["to"] = new if r["to"] == old else r["to"]
    for q in draft.get("quantities", []):
        q["subject"] = new if q["subject"] == old else q["subject"]


def apply_review(draft: dict[str, Any], review: Review) -> dict[str, Any]:
    """The draft with the person's decisions applied, in the order that keeps the page's keys
    meaning what the page meant: rejections and relation edits first (keys as drafted), then
    entity edits, which may rename ids."""
    entities = {e["id"]: e for e in draft.get("entities", [])}
    relations = {relation_key(r): r for r in draft.get("relations", [])}
    quantities = {q["id"] for q in draft.get("quantities", [])}
    known = entities.keys() | relations.keys() | quantities
    unknown = [k for k in [*review.rejected, *review.edits] if k not in known]
    if unknown:
        raise ReviewError(f"no such record in the draft: {', '.join(unknown[:5])}")
    dropped = set(review.rejected)
    draft["entities"] = [e for e in draft.get("entities", []) if e["id"] not in dropped]
    draft["relations"] = [r for r in draft.get("relations", []) if relation_key(r) not in dropped]
    draft["quantities"] = [q for q in draft.get("quantities", []) if q["id"] not in dropped]
    for key, edit in review.edits.items():
        if key in relations:
            r = relations[key]
            for k, v in edit.items():
                if k not in _RELATION_EDITS:
                    raise ReviewError(f"{key}: a relation's {k!r} cannot be edited")
                if k == "type" and v not in model.RELATIONSHIPS:
                    raise ReviewError(f"{key}: unknown relationship type {v!r}")
                r[k] = v or None
    for key, edit in review.edits.items():
        if key in relations:
            continue
        if key not in entities:
            raise ReviewError(f"{key}: only entities and relations are edited")
        e = entities[key]
        for k, v in edit.items():
            if k == "code":
                _choose(e, v, draft)
            elif k in _ENTITY_EDITS:
                if k == "label" and v not in model.LABEL_PREFIXES:
                    raise ReviewError(f"{key}: unknown label {v!r}")
                e[k] = v or None
            else:
                raise ReviewError(f"{key}: an entity's {k!r} cannot be edited")
        if "label" in edit:
            prefix = model.LABEL_PREFIXES[e["label"]]
            if e["label"] in _KINDLESS_DEFAULT and not e.get("kind"):
                e["kind"] = _KINDLESS_DEFAULT[e["label"]]
            new_id = f"{prefix}:{e['id'].split(':', 1)[1]}"
            if new_id != e["id"]:
                _rename(draft, e["id"], new_id)
                e["id"] = new_id
    return draft


def _choose(e: dict[str, Any], code: str, draft: dict[str, Any]) -> None:
    """A place mended to one of its candidates: its code, id, and tie to the parent the draft
    declares."""
    candidate = next((c for c in e.get("candidates", []) if c["code"] == code), None)
    if candidate is None:
        raise ReviewError(f"{e['id']}: {code!r} is not one of its candidates")
    division = Division(short_code(code), candidate["name"])
    old = e["id"]
    e.update({"code": full_code(division.code), "label": division.label, "absent": None})
    if (kind := division_kind(division)) is not None:
        e["division"] = kind
    codes = [division.code[:n] for n in (2, 4, 6, 9, 12) if len(division.code) >= n]
    new_id = place_id(division.code, dict(zip(codes, candidate["path"].split("/"), strict=False)))
    taken = {x["id"] for x in draft["entities"]} - {old}
    if new_id in taken:
        raise ReviewError(f"{old}: the draft already has {new_id}")
    _rename(draft, old, new_id)
    e["id"] = new_id
    parent = parent_code(division.code)
    declared = {short_code(x["code"]): x["id"] for x in draft["entities"] if x.get("code")}
    # a village hangs from its own township or from nothing (the check refuses it under the
    # county when the list names its township); other places from the nearest declared one
    while parent and parent not in declared and division.label != "Village":
        parent = parent_code(parent)
    if parent not in declared:
        parent = None
    if parent:
        key = ("LOCATED_IN", new_id, declared[parent])
        if not any((r["type"], r["from"], r["to"]) == key for r in draft["relations"]):
            draft["relations"].append(
                {
                    "type": "LOCATED_IN",
                    "from": new_id,
                    "to": declared[parent],
                    "evidence": e["evidence"],
                    "confidence": 1.0,
                    "sentence": e.get("sentence", -1),
                }
            )


def save_review(draft: dict[str, Any], review: Review, out: Path, cases_dir: Path) -> dict[str, Any]:
    """Apply the review, check the case file against every curated file, then write it.

    Raises ReviewError for an edit the draft cannot take and CaseValidationError (nothing
    written) when the result would not pass `ruralkg check`."""
    case = case_file(apply_review(draft, review))
    text = dump(case)
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / out.name
        trial.write_text(text, encoding="utf-8")
        try:
            validate_cases([trial], context=discover([cases_dir]))
        except CaseValidationError as exc:
            raise CaseValidationError(
                [e.__class__(out, e.line, e.record, e.field, e.message) for e in exc.errors]
            ) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return case
