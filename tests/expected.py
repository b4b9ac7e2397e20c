"""Expected answers of the query catalog, computed from the curated YAML files alone.

The files under data/ are read with plain `yaml.safe_load` into an in-memory graph that mirrors
what docs/data-format.md says the loader writes: one node per id (an entity named by several
files is one node, with every file's aliases), a Source node per file, MENTIONS from a source to
every entity and quantity it declares, quantities as Quantity nodes reached by HAS_QUANTITY, and
each relation once, with one evidence entry per file stating it. Nothing here runs the project's
loaders or queries: each function below restates one catalog entry's definition in plain Python
and returns the JSON the API should answer. Only graph.text's normalization (fold, search keys,
pinyin) is shared, since that is the specification of search.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from graph.text import SEARCH_SEPARATOR, fold, initials, pinyin, search_key
from graph.vocabulary import SHARED_LABELS
from queries.explore import SEARCH_CAP

JSON = dict[str, Any]
DATA = Path(__file__).resolve().parent.parent / "data"
# Made-up cases shaped to catch catalog bugs (kind: fixture), loaded only by the tests that name them.
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cases"

# docs/data-format.md: the curated relationship types, then the two the loader adds.
DOMAIN_TYPES: tuple[str, ...] = (
    "LOCATED_IN", "HAS_MEMBER", "BASED_IN", "HAS_PROJECT", "LEADS", "INVOLVES", "DISPATCHED_TO",
    "HOLDS_POST", "ADVISES", "IN_INDUSTRY", "USES_PRACTICE", "SUPPORTS", "FOUNDED", "EVOLVED_FROM",
    "PART_OF", "INSTANCE_OF", "INTRODUCED", "COMMEMORATES", "LEARNED_FROM",
)  # fmt: skip
GENERATED_TYPES: tuple[str, ...] = ("MENTIONS", "HAS_QUANTITY")
RELATION_FIELDS = ("role", "level", "status", "since", "note")
# Fields of an entity record that are not node properties of their own.
_ENTITY_META = {"id", "label", "name", "aliases", "evidence"}
# village-profile: regions nearest first.
_REGION_ORDER = {"Village": 0, "Township": 1, "County": 2, "City": 3, "Province": 4}
# search: how the query matched, by rank.
_MATCH = ("name", "exact", "prefix", "prefix", "partial")
# LOCATED_IN chains the catalog follows: village -> township -> county -> city -> province.
REGION_HOPS = 6


def _clean(value: Any) -> Any:
    """Strings as the models keep them (surrounding whitespace stripped), dates as ISO text."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass
class Mention:
    evidence: str
    aliases: tuple[str, ...]


@dataclass
class Node:
    id: str
    label: str
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)
    mentions: dict[str, Mention] = field(default_factory=dict)  # source id -> what it says

    @property
    def sources(self) -> list[str]:
        return sorted(self.mentions)

    @property
    def aliases(self) -> list[str]:
        """Every source's aliases, by source id, first occurrence kept, the name left out."""
        names = (a for s in self.sources for a in self.mentions[s].aliases if a != self.name)
        return list(dict.fromkeys(names))

    @property
    def search(self) -> str:
        return search_key([self.name, *self.aliases])

    def properties(self) -> JSON:
        """The stored properties as the API shows them (without id and the search key)."""
        return {
            "name": self.name,
            **self.attributes,
            "aliases": self.aliases,
            "sources": self.sources,
            "pinyin": pinyin(self.name),
        }

    def ref(self) -> JSON:
        return {"id": self.id, "label": self.label, "name": self.name}

    @property
    def kind(self) -> Any:
        return self.attributes.get("kind")


@dataclass
class Edge:
    type: str
    start: str
    end: str
    props: dict[str, Any] = field(default_factory=dict)
    evidence: list[tuple[str, str]] = field(default_factory=list)  # (source id, quote), load order

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.type, self.start, self.end)

    @property
    def role(self) -> Any:
        return self.props.get("role")

    def json(self) -> JSON:
        return {
            "type": self.type,
            "start": self.start,
            "end": self.end,
            "properties": dict(self.props),
            "evidence": [{"source": s, "quote": q} for s, q in self.evidence],
        }


def case_files(root: Path = DATA) -> list[Path]:
    """Every curated file, in the order a load of data/ reads them."""
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], Edge] = field(default_factory=dict)

    # -- building ---------------------------------------------------------------------------
    def _relate(
        self, type_: str, start: str, end: str, props: dict[str, Any], source: str, quote: str
    ) -> None:
        edge = self.edges.setdefault((type_, start, end), Edge(type_, start, end, props))
        assert edge.props == props, f"{type_} {start} -> {end} is stated differently by two files"
        edge.evidence.append((source, quote))

    def add_file(self, path: Path) -> None:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        src = _clean(doc["source"])
        sid = src["id"]
        # SourceRecord's defaults: an article in simplified script unless the file says otherwise.
        attrs = {
            "kind": src.get("kind") or "article",
            "file": src.get("file"),
            "title": src["title"],
            "publisher": src["publisher"],
            "date": src.get("date"),
            "author": src.get("author"),
            "url": src.get("url"),
            "script": src.get("script") or "simplified",
        }
        assert sid not in self.nodes, f"source {sid} declared twice"
        self.nodes[sid] = Node(sid, "Source", src["title"], {k: v for k, v in attrs.items() if v is not None})

        for raw in doc.get("entities") or []:
            e = _clean(raw)
            attributes = {k: v for k, v in e.items() if k not in _ENTITY_META and v is not None}
            node = self.nodes.setdefault(e["id"], Node(e["id"], e["label"], e["name"], attributes))
            assert (node.label, node.name, node.attributes) == (e["label"], e["name"], attributes), e["id"]
            node.mentions[sid] = Mention(e["evidence"], tuple(e.get("aliases") or ()))
            self._relate("MENTIONS", sid, e["id"], {}, sid, e["evidence"])

        for raw in doc.get("quantities") or []:
            q = _clean(raw)
            year = q.get("year")
            attributes = {
                "measure": q["measure"],
                # A range (qualifier range) gives min and max instead of a value.
                **{k: float(q[k]) for k in ("value", "min", "max") if q.get(k) is not None},
                "unit": q["unit"],
                "year": year,
                # docs/data-format.md: true unless the file says the article gives no year
                "year_stated": q.get("year_stated", True),
                "qualifier": q.get("qualifier") or "exact",
            }
            name = f"{q['measure']}({year})"
            node = self.nodes.setdefault(
                q["id"],
                Node(q["id"], "Quantity", name, {k: v for k, v in attributes.items() if v is not None}),
            )
            node.mentions[sid] = Mention(q["evidence"], ())
            self._relate("MENTIONS", sid, q["id"], {}, sid, q["evidence"])
            self._relate("HAS_QUANTITY", q["subject"], q["id"], {}, sid, q["evidence"])

        for raw in doc.get("relations") or []:
            r = _clean(raw)
            props = {k: r[k] for k in RELATION_FIELDS if r.get(k) is not None}
            self._relate(r["type"], r["from"], r["to"], props, sid, r["evidence"])

    # -- reading ----------------------------------------------------------------------------
    @cached_property
    def _out(self) -> dict[str, list[Edge]]:
        out: dict[str, list[Edge]] = defaultdict(list)
        for e in self.edges.values():
            out[e.start].append(e)
        return out

    @cached_property
    def _in(self) -> dict[str, list[Edge]]:
        inc: dict[str, list[Edge]] = defaultdict(list)
        for e in self.edges.values():
            inc[e.end].append(e)
        return inc

    def label(self, node_id: str) -> str:
        return self.nodes[node_id].label

    def ref(self, node_id: str) -> JSON:
        return self.nodes[node_id].ref()

    def ids(self, label: str) -> list[str]:
        return sorted(n.id for n in self.nodes.values() if n.label == label)

    def out(self, node_id: str, *types: str, to: str | None = None) -> list[Edge]:
        """Relationships starting at the node, of these types, ending at this label."""
        return [
            e
            for e in self._out.get(node_id, [])
            if (not types or e.type in types) and (to is None or self.label(e.end) == to)
        ]

    def into(self, node_id: str, *types: str, frm: str | None = None) -> list[Edge]:
        """Relationships ending at the node, of these types, starting at this label."""
        return [
            e
            for e in self._in.get(node_id, [])
            if (not types or e.type in types) and (frm is None or self.label(e.start) == frm)
        ]

    def regions(self, node_id: str) -> set[str]:
        """Everything reached from the node by 1 to REGION_HOPS LOCATED_IN hops."""
        seen: set[str] = set()
        frontier = {node_id}
        for _ in range(REGION_HOPS):
            frontier = {e.end for n in frontier for e in self.out(n, "LOCATED_IN")}
            seen |= frontier
        return seen

    def located_anywhere_in(self, node_id: str) -> set[str]:
        """Everything reached from the node by LOCATED_IN chains of any length."""
        seen: set[str] = set()
        todo = [node_id]
        while todo:
            for e in self.out(todo.pop(), "LOCATED_IN"):
                if e.end not in seen:
                    seen.add(e.end)
                    todo.append(e.end)
        return seen

    def province_of(self, node_id: str) -> str | None:
        provinces = sorted(r for r in self.regions(node_id) if self.label(r) == "Province")
        assert len(provinces) <= 1, f"{node_id} lies in several provinces: {provinces}"
        return provinces[0] if provinces else None

    def alliances_of_village(self, village: str) -> set[str]:
        """Alliances a village belongs to: as a member, or through a member branch based in it."""
        direct = {e.start for e in self.into(village, "HAS_MEMBER", frm="Alliance")}
        via_branch = {
            m.start
            for b in self.into(village, "BASED_IN", frm="Branch")
            for m in self.into(b.start, "HAS_MEMBER", frm="Alliance")
        }
        return direct | via_branch

    def villages_of_alliance(self, alliance: str) -> set[str]:
        """The same rule from the alliance: its member villages, and its member branches' villages."""
        direct = {e.end for e in self.out(alliance, "HAS_MEMBER", to="Village")}
        via_branch = {
            v.end
            for b in self.out(alliance, "HAS_MEMBER", to="Branch")
            for v in self.out(b.end, "BASED_IN", to="Village")
        }
        return direct | via_branch

    def people(self) -> list[str]:
        """Named people and unnamed groups of people."""
        return sorted(n.id for n in self.nodes.values() if n.label in ("Person", "Group"))

    def county_of(self, node_id: str) -> str | None:
        """The node itself if a county, else the county it lies in."""
        if self.label(node_id) == "County":
            return node_id
        counties = sorted(r for r in self.regions(node_id) if self.label(r) == "County")
        return counties[0] if counties else None

    def refs(self, ids: Iterable[str]) -> list[JSON]:
        """Distinct refs, ordered by id."""
        return [self.ref(i) for i in sorted(set(ids))]

    def neighbours(self, node_id: str, types: Sequence[str]) -> list[tuple[str, Edge]]:
        """(other end, relationship) for every relationship of these types, either direction."""
        return [(e.end, e) for e in self.out(node_id, *types)] + [
            (e.start, e) for e in self.into(node_id, *types)
        ]


def _graph(paths: Iterable[Path]) -> Graph:
    g = Graph()
    for path in paths:
        g.add_file(path)
    dangling = [k for k in g.edges if k[1] not in g.nodes or k[2] not in g.nodes]
    assert not dangling, f"relationships to undeclared ids: {dangling}"
    return g


@lru_cache(maxsize=1)
def curated() -> Graph:
    """The graph that loading every file under data/ should produce."""
    return _graph(case_files())


@lru_cache(maxsize=1)
def with_fixtures() -> Graph:
    """The graph that loading data/ and then the fixture cases should produce."""
    return _graph([*case_files(), *case_files(FIXTURES)])


def page(items: list[JSON], limit: int, offset: int) -> JSON:
    return {"total": len(items), "limit": limit, "offset": offset, "items": items[offset : offset + limit]}


# -- shared-experts ---------------------------------------------------------------------------

EXPERT_TIES = ("DISPATCHED_TO", "SUPPORTS", "ADVISES")
# ... or through a project the village has (HAS_PROJECT) that the person leads, supports, advises.
EXPERT_PROJECT_TIES = ("LEADS", "SUPPORTS", "ADVISES")


def _tie_rank(tie: JSON) -> tuple[int, str, str]:
    """Closest first: dispatched to the village, other direct ties, through a project, through an
    alliance; then by type and the project or alliance id."""
    via = tie["via"]
    through = 0 if via is None else (1 if via["label"] == "Project" else 2)
    return (through * 2 + (tie["tie"] != "DISPATCHED_TO"), tie["tie"], via["id"] if via else "")


def shared_experts(
    g: Graph,
    *,
    village: str | None = None,
    role: str | None = None,
    province: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> JSON:
    """People and groups dispatched somewhere (in `role`, if given) who are tied to more than one
    village by DISPATCHED_TO, SUPPORTS or ADVISES, by LEADS, SUPPORTS or ADVISES to a project the
    village HAS, or by DISPATCHED_TO, SUPPORTS or ADVISES to an alliance the village belongs to
    (villages in `province` only; `village` among them); most villages first, then by id; each
    village once, by its closest tie."""
    found: list[tuple[int, str, list[JSON]]] = []
    for person in g.people():
        if not any(role is None or d.role == role for d in g.out(person, "DISPATCHED_TO")):
            continue
        direct = [(t, t.end, None) for t in g.out(person, *EXPERT_TIES, to="Village")]
        via_projects = [
            (t, h.start, t.end)
            for t in g.out(person, *EXPERT_PROJECT_TIES, to="Project")
            for h in g.into(t.end, "HAS_PROJECT", frm="Village")
        ]
        via_alliances = [
            (t, v, t.end)
            for t in g.out(person, *EXPERT_TIES, to="Alliance")
            for v in g.villages_of_alliance(t.end)
        ]
        ties = [
            t
            for t in direct + via_projects + via_alliances
            if province is None or province in g.regions(t[1])
        ]
        tied = {v for _, v, _ in ties}
        if len(tied) > 1 and (village is None or village in tied):
            out = [
                {**g.ref(v), "tie": t.type, "role": t.role, "via": g.ref(via) if via else None}
                for t, v, via in ties
            ]
            closest: dict[str, JSON] = {}
            for tie in sorted(out, key=_tie_rank):
                closest.setdefault(tie["id"], tie)
            found.append((len(tied), person, [closest[k] for k in sorted(closest)]))
    found.sort(key=lambda f: (-f[0], f[1]))
    items: list[JSON] = []
    for _, person, ties_out in found:
        dispatches: list[JSON] = [
            {"role": d.role, "level": d.props.get("level"), "to": g.ref(d.end)}
            for d in g.out(person, "DISPATCHED_TO")
        ]
        items.append(
            {
                "person": g.ref(person),
                "dispatches": sorted(dispatches, key=lambda d: (d["to"]["id"], d["role"])),
                "villages": ties_out,
            }
        )
    return page(items, limit, offset)


# -- dispatches -------------------------------------------------------------------------------


def dispatches(
    g: Graph, *, role: str | None = None, province: str | None = None, limit: int = 50, offset: int = 0
) -> JSON:
    """Every DISPATCHED_TO (of `role`, into `province`), by person or group id, then target id."""
    items: list[JSON] = []
    for e in sorted(
        (e for e in g.edges.values() if e.type == "DISPATCHED_TO"), key=lambda e: (e.start, e.end)
    ):
        if (role is not None and e.role != role) or (
            province is not None and province not in g.regions(e.end)
        ):
            continue
        county = g.county_of(e.end)
        items.append(
            {
                "person": g.ref(e.start),
                "size": g.nodes[e.start].attributes.get("size"),
                "role": e.role,
                "level": e.props.get("level"),
                "to": g.ref(e.end),
                "county": g.ref(county) if county else None,
            }
        )
    return page(items, limit, offset)


# -- alliance-tree ----------------------------------------------------------------------------


def _project_node(g: Graph, project: str) -> JSON:
    return {
        **g.ref(project),
        "kind": g.nodes[project].kind,
        "enterprises": sorted(
            (
                {**g.ref(i.end), "kind": g.nodes[i.end].kind, "role": i.role}
                for i in g.out(project, "INVOLVES", to="Enterprise")
            ),
            key=lambda e: e["id"],
        ),
    }


def _project_nodes(g: Graph, projects: Iterable[str]) -> list[JSON]:
    return [_project_node(g, p) for p in sorted(set(projects))]


def alliance_tree(g: Graph, alliance: str) -> JSON:
    """Alliance -HAS_MEMBER-> Branch -BASED_IN-> Village -HAS_PROJECT-> Project -INVOLVES->
    Enterprise, with the other members, the alliance's own projects and its post holders."""
    branches: list[JSON] = []
    for m in sorted(g.out(alliance, "HAS_MEMBER", to="Branch"), key=lambda m: m.end):
        b = m.end
        based = g.out(b, "BASED_IN")
        branches.append(
            {
                **g.ref(b),
                "kind": g.nodes[b].kind,
                "role": m.role,
                "based_in": g.refs(x.end for x in based if g.label(x.end) != "Village"),
                "villages": [
                    {
                        **g.ref(v),
                        "projects": _project_nodes(g, (p.end for p in g.out(v, "HAS_PROJECT", to="Project"))),
                    }
                    for v in sorted(x.end for x in based if g.label(x.end) == "Village")
                ],
                "projects": _project_nodes(g, (p.end for p in g.out(b, "LEADS", to="Project"))),
            }
        )
    members = [
        {**g.ref(m.end), "kind": g.nodes[m.end].kind, "role": m.role}
        for m in g.out(alliance, "HAS_MEMBER")
        if g.label(m.end) != "Branch"
    ]
    people = [
        {**g.ref(h.start), "kind": None, "role": h.role, "status": h.props.get("status")}
        for h in g.into(alliance, "HOLDS_POST")
    ]
    return {
        **g.ref(alliance),
        "kind": g.nodes[alliance].kind,
        "villages": g.refs(g.villages_of_alliance(alliance)),
        "branches": branches,
        "members": sorted(members, key=lambda m: m["id"]),
        "projects": _project_nodes(g, (p.end for p in g.out(alliance, "HAS_PROJECT", "LEADS", to="Project"))),
        "people": sorted(people, key=lambda h: (h["id"], h["role"] or "")),
    }


# -- village-profile --------------------------------------------------------------------------


def _quantity(g: Graph, quantity: str, of: str) -> JSON:
    a = g.nodes[quantity].attributes
    return {
        "id": quantity,
        "of": g.ref(of),
        "measure": a["measure"],
        "value": a.get("value"),
        "min": a.get("min"),
        "max": a.get("max"),
        "unit": a["unit"],
        "year": a.get("year"),
        "year_stated": a.get("year_stated"),
        "qualifier": a["qualifier"],
    }


def quantity_order(q: JSON) -> tuple[str, int, str]:
    """A figure over time: by measure, then year, then id."""
    return (q["measure"], q["year"] or 0, q["id"])


def village_profile(g: Graph, village: str) -> JSON:
    node = g.nodes[village]
    alliances = sorted(g.alliances_of_village(village))
    branches = [b.start for b in g.into(village, "BASED_IN", frm="Branch")]
    branch_projects = [p.end for b in branches for p in g.out(b, "LEADS", to="Project")]
    own_projects = [p.end for p in g.out(village, "HAS_PROJECT", to="Project")]
    # Who serves the village: involved in, leading or founding its projects; located in,
    # supporting or having it as a member; members of its alliances.
    enterprises = [
        *(i.end for p in own_projects for i in g.out(p, "INVOLVES", to="Enterprise")),
        *(i.start for p in own_projects for i in g.into(p, "LEADS", "FOUNDED", frm="Enterprise")),
        *(e.start for e in g.into(village, "LOCATED_IN", "SUPPORTS", "HAS_MEMBER", frm="Enterprise")),
        *(i.end for p in branch_projects for i in g.out(p, "INVOLVES", to="Enterprise")),
        *(m.end for a in alliances for m in g.out(a, "HAS_MEMBER", to="Enterprise")),
    ]
    ties: dict[tuple[str, str, str | None], JSON] = {}
    direct = [
        {**g.ref(t.start), "tie": t.type, "role": t.role, "level": t.props.get("level"), "via": None}
        for t in g.into(village)
        if g.label(t.start) in ("Person", "Group")
    ]
    posts = [
        {**g.ref(t.start), "tie": t.type, "role": t.role, "level": None, "via": g.ref(b)}
        for b in branches
        for t in g.into(b, "HOLDS_POST")
    ]
    alliance_ties = [
        {**g.ref(t.start), "tie": t.type, "role": t.role, "level": t.props.get("level"), "via": g.ref(a)}
        for a in alliances
        for t in g.into(a, "HOLDS_POST", *EXPERT_TIES)
        if g.label(t.start) in ("Person", "Group")
    ]
    for tie in [*direct, *posts, *alliance_ties]:
        ties[(tie["id"], tie["tie"], tie["role"])] = tie
    quantities = {
        q.end: _quantity(g, q.end, subject)
        for subject in [village, *alliances]
        for q in g.out(subject, "HAS_QUANTITY")
    }
    regions = sorted(g.regions(village), key=lambda r: (_REGION_ORDER.get(g.label(r), 9), r))
    return {
        **node.ref(),
        "properties": node.properties(),
        "regions": [g.ref(r) for r in regions],
        "alliances": g.refs(alliances),
        "branches": g.refs(branches),
        "projects": g.refs([*own_projects, *branch_projects]),
        "enterprises": g.refs(enterprises),
        "people": sorted(ties.values(), key=lambda t: (t["id"], t["tie"], t["role"] or "")),
        "industries": g.refs(i.end for i in g.out(village, "IN_INDUSTRY", to="Industry")),
        "practices": g.refs(x.end for x in g.out(village, "USES_PRACTICE", to="Practice")),
        "quantities": sorted(quantities.values(), key=quantity_order),
        "sources": [
            {
                **g.ref(sid),
                "publisher": g.nodes[sid].attributes.get("publisher"),
                "date": g.nodes[sid].attributes.get("date"),
                "url": g.nodes[sid].attributes.get("url"),
                "quote": mention.evidence,
            }
            for sid, mention in sorted(node.mentions.items())
        ],
    }


# -- enterprise-reach -------------------------------------------------------------------------


def enterprise_reach(
    g: Graph, *, id: str | None = None, kind: str | None = None, limit: int = 50, offset: int = 0
) -> JSON:
    """Each enterprise (by id) with the projects involving it or it leads or founded; the villages
    holding those projects or whose branch leads them, where it is located, that it supports or has
    as members, and those of its alliances (members, or their branches' villages); the
    alliances holding or leading those projects, those of all those villages, those it is a
    member of, whose branch is based in it, or which it supports."""
    items: list[JSON] = []
    for e in g.ids("Enterprise"):
        if (id is not None and e != id) or (kind is not None and g.nodes[e].kind != kind):
            continue
        projects = [i.start for i in g.into(e, "INVOLVES", frm="Project")] + [
            i.end for i in g.out(e, "LEADS", "FOUNDED", to="Project")
        ]
        holders = [h.start for p in projects for h in g.into(p, "HAS_PROJECT", frm="Village")]
        villages = [
            *holders,
            *(
                v.end
                for p in projects
                for lead in g.into(p, "LEADS", frm="Branch")
                for v in g.out(lead.start, "BASED_IN", to="Village")
            ),
            *(v.end for v in g.out(e, "LOCATED_IN", "SUPPORTS", "HAS_MEMBER", to="Village")),
            *(v for a in g.into(e, "HAS_MEMBER", frm="Alliance") for v in g.villages_of_alliance(a.start)),
        ]
        alliances: list[str] = [
            *(a.start for p in projects for a in g.into(p, "HAS_PROJECT", "LEADS", frm="Alliance")),
            *(a for v in villages for a in g.alliances_of_village(v)),
            *(a.start for a in g.into(e, "HAS_MEMBER", frm="Alliance")),
            *(
                a.start
                for b in g.into(e, "BASED_IN", frm="Branch")
                for a in g.into(b.start, "HAS_MEMBER", frm="Alliance")
            ),
            *(s.end for s in g.out(e, "SUPPORTS", to="Alliance")),
        ]
        items.append(
            {
                "enterprise": {**g.ref(e), "kind": g.nodes[e].kind},
                "projects": g.refs(projects),
                "villages": g.refs(villages),
                "alliances": g.refs(alliances),
            }
        )
    return page(items, limit, offset)


# -- multi-village-people ---------------------------------------------------------------------


def person_village_ties(g: Graph, person: str) -> list[JSON]:
    """Direct ties to villages; posts in a branch (the villages it is based in); posts in,
    dispatches to, support or advice of an alliance (the villages it covers, by the one rule)."""
    ties = [
        {**g.ref(t.end), "tie": t.type, "role": t.role, "level": t.props.get("level"), "via": None}
        for t in g.out(person, to="Village")
    ]
    for post in g.out(person, "HOLDS_POST", to="Branch"):
        for v in g.out(post.end, "BASED_IN", to="Village"):
            ties.append(
                {**g.ref(v.end), "tie": post.type, "role": post.role, "level": None, "via": g.ref(post.end)}
            )
    for t in g.out(person, "HOLDS_POST", *EXPERT_TIES, to="Alliance"):
        for v_id in g.villages_of_alliance(t.end):
            ties.append(
                {
                    **g.ref(v_id),
                    "tie": t.type,
                    "role": t.role,
                    "level": t.props.get("level"),
                    "via": g.ref(t.end),
                }
            )
    unique = {(t["id"], t["tie"], t["role"], (t["via"] or {}).get("id")): t for t in ties}
    return sorted(unique.values(), key=lambda t: (t["id"], t["tie"], (t["via"] or {}).get("id", "")))


def multi_village_people(g: Graph, *, min_villages: int = 2, limit: int = 50, offset: int = 0) -> JSON:
    found: list[tuple[int, str, list[JSON]]] = []
    for person in g.people():
        ties = person_village_ties(g, person)
        n = len({t["id"] for t in ties})
        if n >= min_villages:
            found.append((n, person, ties))
    found.sort(key=lambda f: (-f[0], f[1]))
    return page([{"person": g.ref(p), "villages": ties} for _, p, ties in found], limit, offset)


# -- industry-clusters ------------------------------------------------------------------------


def industry_villages(g: Graph, industry: str) -> dict[str, str]:
    """Village id -> 'direct' (the village is in the industry) or 'project' (only through a
    project it holds that is)."""
    found: dict[str, str] = {}
    for p in g.into(industry, "IN_INDUSTRY", frm="Project"):
        for v in g.into(p.start, "HAS_PROJECT", frm="Village"):
            found[v.start] = "project"
    for v in g.into(industry, "IN_INDUSTRY", frm="Village"):
        found[v.start] = "direct"
    return found


CLUSTER_LIST_BOUND = 10  # a cluster's villages: the first 10 by id, and how many there are


def industry_clusters(
    g: Graph, *, industry: str | None = None, min_villages: int = 2, limit: int = 50, offset: int = 0
) -> JSON:
    """Each industry with at least `min_villages` villages (in it, or holding a project in it):
    its first CLUSTER_LIST_BOUND villages by id, how many there are, and the distinct provinces
    and alliances of them all; by villages (most first), then id."""
    clusters: list[JSON] = []
    for i in g.ids("Industry"):
        if industry is not None and i != industry:
            continue
        villages: list[JSON] = []
        for v, via in sorted(industry_villages(g, i).items()):
            province = g.province_of(v)
            villages.append(
                {
                    **g.ref(v),
                    "via": via,
                    "province": g.ref(province) if province else None,
                    "alliances": g.refs(g.alliances_of_village(v)),
                }
            )
        if villages and len(villages) >= min_villages:
            clusters.append(
                {
                    "industry": g.ref(i),
                    "villages": villages[:CLUSTER_LIST_BOUND],
                    "villages_total": len(villages),
                    "provinces": len({v["province"]["id"] for v in villages if v["province"]}),
                    "alliances": len({a["id"] for v in villages for a in v["alliances"]}),
                }
            )
    clusters.sort(key=lambda c: (-c["villages_total"], c["industry"]["id"]))
    return page(clusters, limit, offset)


# -- practices --------------------------------------------------------------------------------

PRACTICE_LIST_BOUND = 10  # each list: the first 10 by id, and how many there are


def practices(
    g: Graph,
    *,
    id: str | None = None,
    kind: str | None = None,
    concepts: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> JSON:
    """Each practice (only the unscoped concepts with `concepts`) with its users, founders,
    concepts, instances, umbrella and parts; the counties and alliances among those who use or
    found it or one of its instances. Each list is its first PRACTICE_LIST_BOUND by id, with
    `<list>_total` the count of all."""
    items: list[JSON] = []
    for x in g.ids("Practice"):
        node = g.nodes[x]
        if (id is not None and x != id) or (kind is not None and node.kind != kind):
            continue
        if concepts and "." in x.split(":", 1)[1]:
            continue
        instances = [i.start for i in g.into(x, "INSTANCE_OF", frm="Practice")]
        adopters = [u.start for p in [x, *instances] for u in g.into(p, "USES_PRACTICE", "FOUNDED")]
        lists = {
            "users": g.refs(u.start for u in g.into(x, "USES_PRACTICE")),
            "founders": g.refs(f.start for f in g.into(x, "FOUNDED")),
            "concepts": g.refs(c.end for c in g.out(x, "INSTANCE_OF")),
            "instances": g.refs(instances),
            "part_of": g.refs(w.end for w in g.out(x, "PART_OF", to="Practice")),
            "parts": g.refs(w.start for w in g.into(x, "PART_OF", frm="Practice")),
            "counties": g.refs(c for u in adopters if (c := g.county_of(u))),
            "alliances": g.refs(u for u in adopters if g.label(u) == "Alliance"),
        }
        items.append(
            {
                "practice": {**node.ref(), "kind": node.kind},
                "description": node.attributes.get("description"),
                **{name: found[:PRACTICE_LIST_BOUND] for name, found in lists.items()},
                **{f"{name}_total": len(found) for name, found in lists.items()},
                "sources": node.sources,
            }
        )
    return page(items, limit, offset)


# -- figures ----------------------------------------------------------------------------------


def figures(
    g: Graph,
    *,
    measure: str | None = None,
    of: str | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> JSON:
    """Every quantity (filtered), by year and id, with what it measures and its county."""
    items: list[JSON] = []
    for e in g.edges.values():
        if e.type != "HAS_QUANTITY":
            continue
        q = _quantity(g, e.end, e.start)
        if (measure is not None and measure not in q["measure"]) or (of is not None and e.start != of):
            continue
        if (year_from is not None and q["year"] < year_from) or (year_to is not None and q["year"] > year_to):
            continue
        county = g.county_of(e.start)
        items.append({**q, "county": g.ref(county) if county else None, "sources": g.nodes[e.end].sources})
    return page(sorted(items, key=lambda q: (q["year"], q["id"])), limit, offset)


# -- overview ---------------------------------------------------------------------------------


def region_counts(g: Graph, label: str, *, any_depth: bool = False) -> list[JSON]:
    """Each region of this label with the villages and the entities located in it: through
    1..REGION_HOPS LOCATED_IN hops, or chains of any length with `any_depth`."""
    reach = g.located_anywhere_in if any_depth else g.regions
    inside: dict[str, set[str]] = {r: set() for r in g.ids(label)}
    for x in g.nodes:
        for r in reach(x):
            if r in inside:
                inside[r].add(x)
    return [
        {
            **g.ref(r),
            "villages": sum(1 for x in xs if g.label(x) == "Village"),
            "entities": len(xs),
        }
        for r, xs in sorted(inside.items())
    ]


def overview(g: Graph, *, any_depth: bool = False) -> JSON:
    return {
        "labels": dict(sorted(Counter(n.label for n in g.nodes.values()).items())),
        "relationships": dict(sorted(Counter(e.type for e in g.edges.values()).items())),
        "provinces": region_counts(g, "Province", any_depth=any_depth),
        "source_kinds": dict(sorted(Counter(g.nodes[s].attributes["kind"] for s in g.ids("Source")).items())),
    }


def sources(g: Graph, *, kind: str | None = None, limit: int = 50, offset: int = 0) -> JSON:
    """Every source (of that kind), by id, with how many entities it mentions."""
    items = [
        {
            **g.ref(s),
            "publisher": g.nodes[s].attributes.get("publisher"),
            "date": g.nodes[s].attributes.get("date"),
            "url": g.nodes[s].attributes.get("url"),
            "kind": g.nodes[s].attributes["kind"],
            "entities": len(g.out(s, "MENTIONS")),
        }
        for s in g.ids("Source")
        if kind is None or g.nodes[s].attributes["kind"] == kind
    ]
    return page(items, limit, offset)


# -- search -----------------------------------------------------------------------------------


def search_hits(g: Graph, q: str, *, label: str | None = None) -> list[JSON]:
    """Every node (of `label`) whose search key contains the folded query, best match first:
    the name exactly, another name or reading exactly, a name's start, anywhere; then the
    shorter name, then the id."""
    sep = SEARCH_SEPARATOR
    folded = fold(q)
    ranked: list[tuple[int, int, str, JSON]] = []
    for n in g.nodes.values():
        key = n.search
        if (label is not None and n.label != label) or folded not in key:
            continue
        exact, prefix = f"{sep}{folded}{sep}", f"{sep}{folded}"
        if key.startswith(exact):
            rank = 0
        elif exact in key:
            rank = 1
        elif key.startswith(prefix):
            rank = 2
        elif prefix in key:
            rank = 3
        else:
            rank = 4
        hit = {
            **n.ref(),
            "aliases": n.aliases,
            "match": _MATCH[rank],
            "code": None,
            "path": region_path(g, n.id),
        }
        ranked.append((rank, len(n.name), n.id, hit))
    ranked.sort(key=lambda r: r[:3])
    return [r[3] for r in ranked]


def region_path(g: Graph, node_id: str) -> list[str]:
    """Names of the regions a node lies in (1 to REGION_HOPS LOCATED_IN hops), province first,
    then by id. The curated files carry no division codes: `code` is null in their graph."""
    rank = {"Province": 0, "City": 1, "County": 2, "Township": 3, "Village": 4}
    regions = [r for r in g.regions(node_id) if g.label(r) in rank]
    return [g.nodes[r].name for r in sorted(regions, key=lambda r: (rank[g.label(r)], r))]


# What a county's or township's name may end with after the name a query gives (周宁 -> 周宁县).
PLACE_ENDINGS = (
    "", "县", "市", "区", "旗", "镇", "乡", "街道", "自治县", "自治旗", "林区", "特区", "民族乡",
    "土家族乡", "苗族乡", "回族乡", "畲族乡", "彝族乡", "瑶族乡", "壮族乡", "满族乡", "蒙古族乡",
)  # fmt: skip
PLACES_OPENED = 3


def named_places(g: Graph, q: str, *, places: int = PLACES_OPENED) -> list[str]:
    """The counties and townships whose whole name the query is, with or without its ending,
    in characters (2 or more) or pinyin (4 letters or more); the first `places` (3) by id."""
    folded = fold(q)
    if folded.isdigit() or len(folded) < 2 or (folded.isascii() and len(folded) < 4):
        return []
    found = []
    for n in g.nodes.values():
        if n.label not in ("County", "Township"):
            continue
        whole = fold(pinyin(n.name)) if folded.isascii() else fold(n.name)
        endings = {fold(pinyin(e)) for e in PLACE_ENDINGS} if folded.isascii() else set(PLACE_ENDINGS)
        if whole.startswith(folded) and whole[len(folded) :] in endings:
            found.append(n.id)
    return sorted(found)[:places]


def place_hits(
    g: Graph, q: str, *, label: str | None, keyed: set[str], places: int = PLACES_OPENED
) -> list[JSON]:
    """What lies in the named places (1-3 LOCATED_IN hops) and the people dispatched to, holding
    a post in or advising it, curated, not found by a key, of `label`: shorter names first."""
    inside: set[str] = set()
    for place in named_places(g, q, places=places):
        frontier = {place}
        for _ in range(3):
            frontier = {e.start for n in frontier for e in g.into(n, "LOCATED_IN")}
            inside |= frontier
    people = {
        e.start
        for n in inside
        for e in g.into(n, "DISPATCHED_TO", "HOLDS_POST", "ADVISES")
        if g.label(e.start) == "Person"
    }
    hits = [g.nodes[i] for i in inside | people if i not in keyed and (label is None or g.label(i) == label)]
    hits.sort(key=lambda n: (len(n.name), n.id))
    return [
        {**n.ref(), "aliases": n.aliases, "match": "place", "code": None, "path": region_path(g, n.id)}
        for n in hits
    ]


def search(
    g: Graph,
    q: str,
    *,
    label: str | None = None,
    limit: int = 20,
    offset: int = 0,
    places: int = PLACES_OPENED,
) -> JSON:
    """Every key's matches are among the hits here (a name, pinyin or initials that starts with
    the query is in the search key), so no more hits than the cap means no key is broad and
    the answer is exact. What lies in a place the query names follows the keys' matches."""
    keyed = search_hits(g, q, label=label)
    every = search_hits(g, q)
    assert len(every) <= SEARCH_CAP, "the model ranks every match: no key may be broad"
    hits = keyed + place_hits(g, q, label=label, keyed={h["id"] for h in every}, places=places)
    return {**page(hits, limit, offset), "total_exact": True, "broad": False}


REGION_LABELS = ("Province", "City", "County")  # listed for a broad key; each has its own index


def search_keys(f: str) -> list[str]:
    """The keys search tries for a folded query, in order (as search_capped says)."""
    if f.isdigit():
        return ["curated", "code"]
    if f.isascii():
        return ["curated", "name", "pinyin"] + (["initials"] if len(f) > 1 else [])
    return ["curated", "name"]


def search_capped(
    g: Graph, q: str, *, cap: int, label: str | None = None, limit: int = 20, offset: int = 0
) -> JSON:
    """search with any cap, broad keys included. The keys, in order: `curated` (the search key
    contains the folded query; every entity of these files is curated), then the start of the
    name, its pinyin and (two letters or more) its initials for Latin input, of the name for any
    other, or of the division code for digits (none here). A key matching more than `cap`
    entities (of `label`, when it has an index of its own) is broad: it counts as `cap` without a
    label, and lists only its provinces, cities and counties not matched by an earlier key; a
    narrow key lists its matches not matched by an earlier key. Hits ranked as `search_hits`."""
    f = fold(q)
    keys = search_keys(f)

    def matches(key: str, n: Node) -> bool:
        start = {"name": fold(n.name), "pinyin": fold(pinyin(n.name)), "initials": fold(initials(n.name))}
        return f in n.search if key == "curated" else key != "code" and start[key].startswith(f)

    own = label in REGION_LABELS
    total, broad, listed = 0, False, []
    for i, key in enumerate(keys):
        found = [n for n in g.nodes.values() if matches(key, n) and (not own or n.label == label)]
        new = [n for n in found if not any(matches(k, n) for k in keys[:i])]
        if len(found) > cap:
            broad = True
            total += cap if label is None else 0
            listed += [n.id for n in new if label is None and n.label in REGION_LABELS]
        else:
            kept = [n.id for n in new if label is None or n.label == label]
            total += len(kept)
            listed += kept
    ranked = {h["id"]: h for h in search_hits(g, q)}
    items = [ranked[i] for i in sorted(listed, key=lambda i: list(ranked).index(i))]
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "items": items[offset : offset + limit],
        "total_exact": not broad,
        "broad": broad,
    }


# -- entity -----------------------------------------------------------------------------------


def entity(g: Graph, node_id: str, *, limit: int = 200, offset: int = 0) -> JSON:
    """Properties, provenance by source id, and a page of every relationship but MENTIONS, in
    either direction, ordered by type, then the other end's id, then the start's id."""
    node = g.nodes[node_id]
    rels = [
        {**e.json(), "direction": "out" if e.start == node_id else "in", "other": g.ref(other)}
        for other, e in g.neighbours(node_id, (*DOMAIN_TYPES, "HAS_QUANTITY"))
    ]
    return {
        **node.ref(),
        "properties": node.properties(),
        "provenance": [
            {
                **g.ref(sid),
                "publisher": g.nodes[sid].attributes.get("publisher"),
                "date": g.nodes[sid].attributes.get("date"),
                "url": g.nodes[sid].attributes.get("url"),
                "quote": mention.evidence,
            }
            for sid, mention in sorted(node.mentions.items())
        ],
        "relationships": page(
            sorted(rels, key=lambda r: (r["type"], r["other"]["id"], r["start"])), limit, offset
        ),
    }


# -- neighborhood -----------------------------------------------------------------------------


def distances(
    g: Graph,
    center: str,
    *,
    depth: int,
    types: Sequence[str] = DOMAIN_TYPES,
    labels: Sequence[str] | None = None,
    stop_at: Sequence[str] = (),
) -> dict[str, int]:
    """Breadth-first over relationships of these types in either direction, stepping only onto
    nodes with one of `labels` and on from nodes without one of `stop_at` (the centre itself is
    exempt from both): node id -> hops, within depth."""
    dist = {center: 0}
    queue = deque([center])
    while queue:
        here = queue.popleft()
        if dist[here] == depth or (here != center and g.label(here) in stop_at):
            continue
        for other, _ in g.neighbours(here, types):
            if other in dist or (labels is not None and g.label(other) not in labels):
                continue
            dist[other] = dist[here] + 1
            queue.append(other)
    del dist[center]
    return dist


def neighborhood(
    g: Graph,
    center: str,
    *,
    depth: int = 1,
    labels: Sequence[str] | None = None,
    types: Sequence[str] | None = None,
    limit: int = 100,
    through_shared: bool = False,
) -> JSON:
    """Nodes within `depth` hops, nearest first then by id, capped at `limit`, not walking on
    through the shared vocabulary unless asked; the relationships (of the allowed types) among
    the kept nodes and the centre; what the cap left out."""
    allowed = tuple(types or DOMAIN_TYPES)
    stop_at = () if through_shared else SHARED_LABELS
    dist = distances(g, center, depth=depth, types=allowed, labels=labels, stop_at=stop_at)
    reached = sorted(dist, key=lambda n: (dist[n], n))
    kept, cut = reached[:limit], reached[limit:]
    ids = {*kept, center}
    edges = sorted(
        (e for e in g.edges.values() if e.type in allowed and e.start in ids and e.end in ids),
        key=lambda e: e.key,
    )
    return {
        "center": g.ref(center),
        "nodes": [{**g.ref(n), "distance": dist[n]} for n in kept],
        "edges": [e.json() for e in edges],
        "truncated": len(reached) > limit,
        "total_nodes": len(reached),
        "cut": {"nodes": len(cut), "by_label": dict(Counter(g.label(n) for n in cut))},
    }


# -- path -------------------------------------------------------------------------------------


def shortest_paths(
    g: Graph, source: str, target: str, *, max_depth: int = 4, types: Sequence[str] = DOMAIN_TYPES
) -> list[tuple[list[str], list[Edge]]]:
    """Every shortest path between the two over the undirected graph of these relationship types,
    within max_depth: its node ids and, for each step, one relationship joining them."""
    dist = distances(g, source, depth=max_depth, types=types)
    if target not in dist:
        return []
    dist[source] = 0
    found: list[tuple[list[str], list[Edge]]] = []

    def walk_back(node: str, nodes: list[str], edges: list[Edge]) -> None:
        if node == source:
            found.append(([source, *nodes], edges))
            return
        for other, e in g.neighbours(node, types):
            if dist.get(other) == dist[node] - 1:
                walk_back(other, [node, *nodes], [e, *edges])

    walk_back(target, [], [])
    return found


def path_types(
    g: Graph, source: str, target: str, *, types: Sequence[str] | None = None, through_shared: bool = False
) -> tuple[str, ...]:
    """The types a path may use: those asked for; else every domain type but having an industry
    or a practice, unless asked or an end is one."""
    if types:
        return tuple(types)
    if through_shared or {g.label(source), g.label(target)} & {"Industry", "Practice"}:
        return DOMAIN_TYPES
    return tuple(t for t in DOMAIN_TYPES if t not in ("IN_INDUSTRY", "USES_PRACTICE"))


def paths(
    g: Graph, source: str, target: str, *, max_depth: int = 4, types: Sequence[str] = DOMAIN_TYPES
) -> list[JSON]:
    """The path entry's `paths`, ordered by node ids (ties between paths through the same nodes
    by relationship keys)."""
    out = [
        {
            "length": len(edges),
            "nodes": [g.ref(n) for n in nodes],
            "edges": [e.json() for e in edges],
        }
        for nodes, edges in shortest_paths(g, source, target, max_depth=max_depth, types=types)
    ]
    return sorted(out, key=path_order)


def path_order(path: JSON) -> tuple[list[str], list[tuple[str, str, str]]]:
    return ([n["id"] for n in path["nodes"]], [(e["type"], e["start"], e["end"]) for e in path["edges"]])


# -- coverage-map -----------------------------------------------------------------------------


def coverage_map(g: Graph) -> JSON:
    """Every county a village lies in (1 to REGION_HOPS LOCATED_IN hops, as region-coverage
    counts) that is in an alliance (a member, or the base of a member branch) or has someone
    dispatched to it: how many of each it has."""
    in_alliance = {
        e.end
        for e in g.edges.values()
        if e.type == "HAS_MEMBER" and g.label(e.start) == "Alliance" and g.label(e.end) == "Village"
    } | {
        b.end
        for e in g.edges.values()
        if e.type == "HAS_MEMBER" and g.label(e.start) == "Alliance" and g.label(e.end) == "Branch"
        for b in g.out(e.end, "BASED_IN")
        if g.label(b.end) == "Village"
    }
    dispatched = {
        e.end
        for e in g.edges.values()
        if e.type == "DISPATCHED_TO"
        and g.label(e.start) in ("Person", "Group")
        and g.label(e.end) == "Village"
    }

    def counties(village: str) -> set[str]:
        return {c for c in g.regions(village) if g.label(c) == "County"}

    def province(county: str) -> str | None:
        one = {e.end for e in g.out(county, "LOCATED_IN")}
        two = {e.end for n in one for e in g.out(n, "LOCATED_IN")}
        names = [g.nodes[p].name for p in sorted(one | two) if g.label(p) == "Province"]
        return names[0] if names else None

    found: dict[str, dict[str, set[str]]] = {}
    for kind, villages in (("alliance", in_alliance), ("dispatched", dispatched)):
        for v in villages:
            for c in counties(v):
                found.setdefault(c, {"alliance": set(), "dispatched": set()})[kind].add(v)
    return {
        "items": [
            {
                "county": {**g.ref(c), "code": None},
                "province": province(c),
                "villages_in_alliance": len(found[c]["alliance"]),
                "villages_with_dispatched": len(found[c]["dispatched"]),
            }
            for c in sorted(found)
        ]
    }
