"""Reading and validating curated case files: every problem found, each with file, line, record, field.

Validation never touches the graph, so a file that fails here has written nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from graph.model import LABELS, RELATIONSHIPS, Entity, Quantity, Relation, SourceRecord
from graph.vocabulary import CONCEPTS, SHARED_ENTITIES, UNSCOPED_LABELS

_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "entities": TypeAdapter(Entity).validate_python,
    "relations": Relation.model_validate,
    "quantities": Quantity.model_validate,
}
SECTIONS = ("source", "entities", "relations", "quantities")
CASE_SUFFIXES = (".yaml", ".yml")

Path_ = tuple[str | int, ...]


class _CaseLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so pydantic reports a bad date as a field error,
    and refuses aliases: case files need none, and a short chain of them expands to millions
    of nodes (a "billion laughs"), refused here before anything is expanded."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in case files", event.start_mark
            )
        return super().compose_node(parent, index)  # type: ignore[no-any-return]


_CaseLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class CaseError:
    file: Path
    line: int | None
    record: str
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        fld = f" field `{self.field}`" if self.field else ""
        return f"{where}: {self.record}{fld}: {self.message}"


class CaseValidationError(Exception):
    def __init__(self, errors: Sequence[CaseError]) -> None:
        self.errors = list(errors)
        lines = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(f"{len(self.errors)} problem(s) in the case data:\n{lines}")


@dataclass
class CaseFile:
    path: Path
    source: SourceRecord
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    quantities: list[Quantity] = field(default_factory=list)
    # (section, entity id or relation key) -> the line its record starts at
    lines: dict[tuple[str, Any], int] = field(default_factory=dict)


def _duplicate_keys(node: yaml.Node, path: Path_ = ()) -> list[tuple[Path_, str, int, int]]:
    """Keys given twice in one mapping (YAML keeps the last silently):
    (path, key, line of the repeat, line of the first)."""
    found: list[tuple[Path_, str, int, int]] = []
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            key, line = str(key_node.value), key_node.start_mark.line + 1
            if key in first:
                found.append(((*path, key), key, line, first[key]))
            first.setdefault(key, line)
            found += _duplicate_keys(value_node, (*path, key))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found += _duplicate_keys(item, (*path, i))
    return found


def _raw_item(raw: Any, at: Path_) -> Any:
    section = raw.get(at[0]) if isinstance(raw, dict) else None
    return section[at[1]] if isinstance(section, list) and isinstance(at[1], int) else None


def _line_map(node: yaml.Node, path: Path_ = (), out: dict[Path_, int] | None = None) -> dict[Path_, int]:
    """Line number (1-based) of every mapping value and sequence item, keyed by its path."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*path, key)] = key_node.start_mark.line + 1
            _line_map(value_node, (*path, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, (*path, i), out)
    return out


class _Collector:
    def __init__(self, path: Path, lines: dict[Path_, int]) -> None:
        self.path, self.lines, self.errors = path, lines, list[CaseError]()

    def line(self, at: Path_) -> int | None:
        while at and at not in self.lines:
            at = at[:-1]
        return self.lines.get(at)

    def add(self, at: Path_, record: str, fld: str | None, message: str) -> None:
        self.errors.append(CaseError(self.path, self.line(at), record, fld, message))

    def pydantic(self, at: Path_, record: str, exc: ValidationError) -> None:
        for err in exc.errors():
            loc = list(err["loc"])
            if loc and loc[0] in LABELS:  # the union's tag (the label), not a field of the record
                loc = loc[1:]
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "union_tag_invalid":
                loc, msg = (
                    ["label"],
                    f"unknown label {err['ctx']['tag']!r}; expected {err['ctx']['expected_tags']}",
                )
            elif err["type"] == "union_tag_not_found":
                loc, msg = ["label"], "is required"
            elif err["type"] == "missing":
                msg = "is required"
            elif err["type"] == "extra_forbidden":
                msg = "is not a known field"
            elif err["type"] == "literal_error" and "expected" in err.get("ctx", {}):
                msg = f"expected {err['ctx']['expected']}, got {err['input']!r}"
            self.add((*at, *loc), record, ".".join(str(p) for p in loc) or None, msg)


def _record_name(section: str, index: int, raw: Any) -> str:
    ident = raw.get("id") if isinstance(raw, dict) else None
    if section == "relations" and isinstance(raw, dict):
        ident = f"{raw.get('type')} {raw.get('from')} -> {raw.get('to')}"
    return f"{section}[{index}]" + (f" ({ident})" if ident else "")


def parse_case_file(path: Path) -> tuple[CaseFile | None, list[CaseError]]:
    """Parse one file; return it (None if unusable) and every problem found in it alone."""
    try:
        text = path.read_text(encoding="utf-8")
        loader = _CaseLoader(text)
        try:
            node = loader.get_single_node()
            raw = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except (OSError, UnicodeDecodeError) as exc:
        return None, [CaseError(path, None, "file", None, f"cannot be read: {exc}")]
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        return None, [CaseError(path, line, "file", None, f"is not valid YAML: {exc.problem}")]
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. a control character
        line = text.count("\n", 0, exc.position) + 1
        return None, [CaseError(path, line, "file", None, f"is not valid YAML: {exc}")]
    c = _Collector(path, _line_map(node) if node is not None else {})
    for at, key, line, first in _duplicate_keys(node) if node is not None else []:
        if len(at) < 3:
            record = "file" if len(at) < 2 else str(at[0])
        else:
            record = _record_name(str(at[0]), int(at[1]), _raw_item(raw, at))
        c.errors.append(CaseError(path, line, record, key, f"duplicate key (first given at line {first})"))
    if not isinstance(raw, dict):
        c.add((), "file", None, f"must be a mapping with the sections {', '.join(SECTIONS)}")
        return None, c.errors
    for key in raw:
        if key not in SECTIONS:
            c.add((key,), "file", str(key), f"unknown section; expected one of {', '.join(SECTIONS)}")

    source = None
    try:
        source = SourceRecord.model_validate(raw.get("source"))
    except ValidationError as exc:
        c.pydantic(("source",), "source", exc)

    case = CaseFile(path, source) if source else None
    parsed: dict[str, list[tuple[int, Any]]] = {section: [] for section in _VALIDATORS}
    for section, validate in _VALIDATORS.items():
        items = raw.get(section) or []
        if not isinstance(items, list):
            c.add((section,), "file", section, "must be a list")
            continue
        for i, item in enumerate(items):
            try:
                parsed[section].append((i, validate(item)))
            except ValidationError as exc:
                c.pydantic((section, i), _record_name(section, i, item), exc)

    # Ids and labels come from the raw records, so an invalid record still counts as declared
    # and one mistake is reported once, not again at every reference to it.
    labels: dict[str, str] = {}
    seen_at: dict[str, str] = {source.id: "source"} if source else {}
    for section in ("entities", "quantities"):
        items = raw.get(section)
        for i, item in enumerate(items if isinstance(items, list) else []):
            ident = item.get("id") if isinstance(item, dict) else None
            if not isinstance(ident, str):
                continue
            if ident in seen_at:
                c.add(
                    (section, i, "id"),
                    _record_name(section, i, item),
                    "id",
                    f"duplicate id: already used by {seen_at[ident]}",
                )
                continue
            seen_at[ident] = f"{section}[{i}]"
            if section == "entities":
                labels[ident] = str(item.get("label"))

    rel_seen: dict[tuple[str, str, str], int] = {}
    for i, rel in parsed["relations"]:
        name = _record_name("relations", i, rel.model_dump(by_alias=True))
        starts, ends = RELATIONSHIPS[rel.type]
        for end, fld, allowed in ((rel.from_, "from", starts), (rel.to, "to", ends)):
            label = labels.get(end)
            if label is None:
                c.add(
                    ("relations", i, fld), name, fld, f"unknown reference {end!r}: declare it under entities"
                )
            elif label not in allowed:
                c.add(
                    ("relations", i, fld),
                    name,
                    fld,
                    f"{rel.type} cannot {'start at' if fld == 'from' else 'end at'} a {label}; "
                    f"expected {', '.join(allowed)}",
                )
        if rel.from_ == rel.to:
            c.add(("relations", i), name, None, "a relation cannot join an entity to itself")
        if rel.key in rel_seen:
            c.add(("relations", i), name, None, f"duplicate relation: same as relations[{rel_seen[rel.key]}]")
        rel_seen.setdefault(rel.key, i)
    for i, q in parsed["quantities"]:
        if q.subject not in labels:
            c.add(
                ("quantities", i, "subject"),
                _record_name("quantities", i, {"id": q.id}),
                "subject",
                f"unknown reference {q.subject!r}: declare it under entities",
            )

    _curation_errors(c, raw, parsed)
    _model_errors(c, source, labels, parsed)

    if case is None or c.errors:
        return None, c.errors
    case.lines = {
        (section, ident): line
        for section in ("entities", "relations", "quantities")
        for i, item in parsed[section]
        if (line := c.line((section, i))) is not None
        for ident in [item.key if section == "relations" else item.id]
    }
    case.entities = [e for _, e in parsed["entities"]]
    case.relations = [r for _, r in parsed["relations"]]
    case.quantities = [q for _, q in parsed["quantities"]]
    return case, []


def _at(case: CaseFile, key: tuple[str, Any]) -> str:
    line = case.lines.get(key)
    return f"{case.path}:{line}" if line else str(case.path)


# -- Curation checks: what a careful second reading found the first one let through ----------


def _curation_errors(c: _Collector, raw: dict[str, Any], parsed: dict[str, list[tuple[int, Any]]]) -> None:
    _unused_entity_errors(c, raw)
    for i, q in parsed["quantities"]:
        _qualifier_error(c, i, q)
    for i, e in parsed["entities"]:
        _scope_error(c, i, e)


def _model_errors(
    c: _Collector,
    source: SourceRecord | None,
    labels: dict[str, str],
    parsed: dict[str, list[tuple[int, Any]]],
) -> None:
    """The model's rules that span records: concepts come from the vocabulary, and a year the
    article does not state is its own year."""
    for i, rel in parsed["relations"]:
        if rel.type != "INSTANCE_OF":
            continue
        name = _record_name("relations", i, rel.model_dump(by_alias=True))
        if rel.to not in CONCEPTS and rel.to in labels:
            c.add(
                ("relations", i, "to"),
                name,
                "to",
                f"{rel.to!r} is not a practice concept of docs/shared-vocabulary.md "
                f"({', '.join(sorted(CONCEPTS))}): add the concept there, or leave the link out",
            )
        if rel.from_ in SHARED_ENTITIES:
            c.add(("relations", i, "from"), name, "from", "a concept is not an instance of another concept")
    year = source.date.year if source and source.date else None
    for i, q in parsed["quantities"]:
        if not q.year_stated and year is not None and q.year != year:
            c.add(
                ("quantities", i, "year"),
                _record_name("quantities", i, {"id": q.id}),
                "year",
                f"`year_stated: false` takes the article's year ({year}), not {q.year}",
            )


def _refs(raw: dict[str, Any]) -> set[str]:
    """Every id a relation or quantity of the raw file names (invalid records included)."""
    used: set[str] = set()
    for section, keys in (("relations", ("from", "to")), ("quantities", ("subject",))):
        items = raw.get(section)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                used.update(str(item[k]) for k in keys if k in item)
    return used


def _unused_entity_errors(c: _Collector, raw: dict[str, Any]) -> None:
    """An entity the file ties to nothing says nothing the graph can use: the link was missed."""
    used = _refs(raw)
    items = raw.get("entities")
    for i, item in enumerate(items if isinstance(items, list) else []):
        ident = item.get("id") if isinstance(item, dict) else None
        if isinstance(ident, str) and ident not in used:
            c.add(
                ("entities", i, "id"),
                _record_name("entities", i, item),
                "id",
                "is in no relation and no quantity: tie it to what the article says of it, or leave it out",
            )


# A range in the quote: 1-2人, 3至5个 (numbers), 数十次, 几百人, 十几个 (words).
_NUMBER_RANGE = re.compile(r"(\d+(?:\.\d+)?)\s*[-~～—–至到]\s*(\d+(?:\.\d+)?)")
_WORD_RANGE = re.compile(r"[数几][十百千万]|[十百千]几")
# Words that make a number a bound, by the qualifier they call for.
_BOUND_WORDS: dict[str, tuple[str, ...]] = {
    "over": ("余", "多", "以上", "超过", "逾", "至少", "不少于"),
    "about": ("约", "近", "左右", "上下"),
    "under": ("以下", "不到", "不足", "以内", "低于", "不超过"),
}
# A bound word right at a number: 2000多万, 300余亩, 约5万, 超过100.
_BOUNDED_NUMBER = re.compile(r"(?:约|近|超过|逾|至少)\s*(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s*[余多]")
_SCALES = (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000)


def _is(value: float | None, number: str) -> bool:
    """Whether the quote's number is this value, in any of the scales base units allow (50万 is 500000)."""
    return value is not None and any(abs(float(number) * s - value) < 1e-6 for s in _SCALES)


def _qualifier_error(c: _Collector, i: int, q: Quantity) -> None:
    """The qualifier must be one the quote can bear: a range is never stored as a bound.

    Numbers are matched to the value, so a quote that bounds another number (50余万, 增长166%)
    does not count against an exact 166.
    """
    text = q.evidence
    ranges = [m.group() for m in _NUMBER_RANGE.finditer(text) if any(_is(q.value, n) for n in m.groups())]
    ranges += [m.group() for m in _WORD_RANGE.finditer(text)]
    bounded = [m.group() for m in _BOUNDED_NUMBER.finditer(text) if _is(q.value, m[1] or m[2])]
    problem = None
    if q.qualifier == "range":
        if not (_WORD_RANGE.search(text) or _NUMBER_RANGE.search(text)):
            problem = "`qualifier: range` but the quote gives no range (such as 1-2 or 数十)"
    elif ranges:
        problem = f"the quote gives a range ({ranges[0]}): use `qualifier: range` with `min` and `max`"
    elif q.qualifier in _BOUND_WORDS and not any(w in text for w in _BOUND_WORDS[q.qualifier]):
        problem = (
            f"`qualifier: {q.qualifier}` but the quote has none of {', '.join(_BOUND_WORDS[q.qualifier])}"
        )
    elif q.qualifier == "exact" and bounded:
        problem = f"`qualifier: exact` but the quote bounds the number ({bounded[0]})"
    if problem:
        name = _record_name("quantities", i, {"id": q.id})
        c.add(("quantities", i, "qualifier"), name, "qualifier", problem)


def _scope_error(c: _Collector, i: int, e: Entity) -> None:
    """Only the shared vocabulary may be unscoped; a shared entity is declared exactly as listed."""
    name = _record_name("entities", i, {"id": e.id})
    shared = SHARED_ENTITIES.get(e.id)
    if shared is not None:
        declared = (e.label, e.name, e.name_en, getattr(e, "kind", None), e.description)
        if declared != tuple(shared):
            fields = ("label", "name", "name_en", "kind", "description")
            wrong = [f for f, have, want in zip(fields, declared, shared, strict=True) if have != want]
            c.add(
                ("entities", i),
                name,
                None,
                f"a shared entity is declared as docs/shared-vocabulary.md lists it "
                "(label, name, name_en, kind, its definition as description): "
                f"{', '.join(f'`{f}`' for f in wrong)} {'differs' if len(wrong) == 1 else 'differ'}: "
                f"{tuple(shared)}, not {declared}",
            )
    elif e.label not in UNSCOPED_LABELS and "." not in e.id.split(":", 1)[1]:
        c.add(
            ("entities", i, "id"),
            name,
            "id",
            f"{e.id!r} is unscoped, but only the shared vocabulary's ids may be: "
            "scope it to its region (prefix:province.county...slug) or add it to docs/shared-vocabulary.md",
        )


def _consistency_errors(cases: Sequence[CaseFile]) -> list[CaseError]:
    """Files that share an entity or a relation must agree on everything but aliases and evidence."""
    errors: list[CaseError] = []
    first_entity: dict[str, tuple[CaseFile, dict[str, Any]]] = {}
    first_rel: dict[tuple[str, str, str], tuple[CaseFile, dict[str, Any]]] = {}
    sources: dict[str, CaseFile] = {}
    for case in cases:
        if case.source.id in sources:
            errors.append(
                CaseError(
                    case.path,
                    None,
                    "source",
                    "id",
                    f"source id {case.source.id!r} is already used by {sources[case.source.id].path}",
                )
            )
        sources.setdefault(case.source.id, case)
        for e in case.entities:
            facts = {"label": e.label, "name": e.name, **e.attributes()}
            if e.id not in first_entity:
                first_entity[e.id] = (case, facts)
            elif first_entity[e.id][1] != facts:
                other, theirs = first_entity[e.id]
                diff = sorted(k for k in facts.keys() | theirs.keys() if facts.get(k) != theirs.get(k))
                errors.append(
                    CaseError(
                        case.path,
                        case.lines.get(("entities", e.id)),
                        f"entity {e.id}",
                        ", ".join(diff),
                        f"differs from its declaration in {_at(other, ('entities', e.id))}: "
                        f"{theirs} here {facts}",
                    )
                )
        for r in case.relations:
            attrs = r.attributes()
            if r.key not in first_rel:
                first_rel[r.key] = (case, attrs)
            elif first_rel[r.key][1] != attrs:
                other, theirs = first_rel[r.key]
                errors.append(
                    CaseError(
                        case.path,
                        case.lines.get(("relations", r.key)),
                        f"relation {r.type} {r.from_} -> {r.to}",
                        None,
                        f"differs from the same relation in {_at(other, ('relations', r.key))}: "
                        f"{theirs} here {attrs}",
                    )
                )
    return errors


def discover(paths: Iterable[Path]) -> list[Path]:
    """Case files under the given files or folders, in a stable order."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*") if q.suffix in CASE_SUFFIXES))
        else:
            found.append(p)
    return found


def _resolved(path: Path) -> Path:
    """The path resolved, or as given when it cannot be (a symlink loop): reading it then
    reports the file as unreadable, by name, instead of a traceback."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def validate_cases(paths: Sequence[Path], *, context: Sequence[Path] = ()) -> list[CaseFile]:
    """Parse and validate `paths`; `context` files are checked for consistency, not returned.

    Raises CaseValidationError listing every problem in every file.
    """
    wanted = {_resolved(p) for p in paths}
    cases: list[CaseFile] = []
    errors: list[CaseError] = []
    for path in dict.fromkeys([*paths, *(p for p in context if _resolved(p) not in wanted)]):
        case, errs = parse_case_file(path)
        errors.extend(errs)
        if case:
            cases.append(case)
    errors.extend(_consistency_errors(cases))
    if errors:
        raise CaseValidationError(sorted(errors, key=lambda e: (str(e.file), e.line or 0)))
    return [c for c in cases if _resolved(c.path) in wanted]
