"""Catalog answers as networks: {nodes, edges} (the neighbourhood answer's shape) for the views.

Plain functions over the catalog's result models: the pages draw them, notebooks may too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from queries.analysis import AllianceTree, EnterpriseReach, ProjectNode, SharedExpert
from queries.explore import Network, Paths
from queries.models import Page, Ref

DERIVED = "REACHES"
"""An edge the enterprise-reach answer implies (an enterprise touches a village or alliance
through projects and memberships) rather than one relationship in the graph."""


@dataclass
class Graph:
    """Nodes in the order they were reached (the cap keeps the first), edges once each."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    levels: dict[str, int] = field(default_factory=dict)

    def node(self, ref: Ref, level: int = 0) -> str:
        if ref.id not in self.nodes:
            self.nodes[ref.id] = {"id": ref.id, "label": ref.label, "name": ref.name}
            self.levels[ref.id] = level
        return ref.id

    def edge(self, type_: str, start: str, end: str, **properties: Any) -> None:
        props = {k: v for k, v in properties.items() if v is not None}
        self.edges.setdefault(
            (start, type_, end),
            {"type": type_, "start": start, "end": end, "properties": props, "evidence": []},
        )


@dataclass
class Capped:
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    levels: dict[str, int]
    total_nodes: int
    cut_nodes: int
    cut_by_label: dict[str, int]


def capped(
    graph: Graph,
    limit: int,
    *,
    keep: Iterable[str] = (),
    labels: Iterable[str] | None = None,
    types: Iterable[str] | None = None,
) -> Capped:
    """The first `limit` nodes (those in `keep` always), optionally only some labels and
    relationship types, with what the cap left out counted by label."""
    label_set, type_set, must = set(labels or ()), set(types or ()), set(keep)
    nodes = [n for n in graph.nodes.values() if not label_set or n["label"] in label_set or n["id"] in must]
    kept = [n for n in nodes if n["id"] in must]
    for n in nodes:
        if len(kept) >= limit:
            break
        if n["id"] not in must:
            kept.append(n)
    ids = {n["id"] for n in kept}
    by_label: dict[str, int] = {}
    for n in nodes:
        if n["id"] not in ids:
            by_label[n["label"]] = by_label.get(n["label"], 0) + 1
    edges = [
        e
        for e in graph.edges.values()
        if e["start"] in ids and e["end"] in ids and (not type_set or e["type"] in type_set)
    ]
    return Capped(
        nodes=kept,
        edges=edges,
        levels={k: v for k, v in graph.levels.items() if k in ids},
        total_nodes=len(nodes),
        cut_nodes=len(nodes) - len(kept),
        cut_by_label=dict(sorted(by_label.items())),
    )


def neighborhood_graph(answer: Network) -> Graph:
    graph = Graph()
    graph.node(answer.center, 0)
    for n in answer.nodes:
        graph.node(n, n.distance)
    for e in answer.edges:
        graph.edges[(e.start, e.type, e.end)] = e.model_dump(mode="json")
    return graph


def _projects(graph: Graph, owner: str, projects: list[ProjectNode], type_: str, level: int) -> None:
    for p in projects:
        graph.edge(type_, owner, graph.node(p, level))
        for e in p.enterprises:
            graph.edge("INVOLVES", p.id, graph.node(e, level + 1), role=e.role)


def alliance_graph(tree: AllianceTree) -> Graph:
    """Alliance (level 0) -> branches, other members, office holders (1) -> the villages and
    places branches are based in (2) -> projects (3) -> enterprises (4)."""
    graph = Graph()
    root = graph.node(tree, 0)
    for b in tree.branches:
        graph.edge("HAS_MEMBER", root, graph.node(b, 1), role=b.role)
    for m in tree.members:
        graph.edge("HAS_MEMBER", root, graph.node(m, 1), role=m.role)
    for h in tree.people:
        graph.edge("HOLDS_POST", graph.node(h, 1), root, role=h.role)
    for b in tree.branches:
        for x in b.based_in:
            graph.edge("BASED_IN", b.id, graph.node(x, 2))
        for v in b.villages:
            graph.edge("BASED_IN", b.id, graph.node(v, 2))
    for b in tree.branches:
        for v in b.villages:
            _projects(graph, v.id, v.projects, "HAS_PROJECT", 3)
        _projects(graph, b.id, b.projects, "LEADS", 3)
    # The tree does not say which of the two ties an alliance-level project has.
    _projects(graph, root, tree.projects, "HAS_PROJECT", 3)
    return graph


def paths_graph(answer: Paths) -> Graph:
    """Every path's nodes, each at its least distance from the source along a path."""
    graph = Graph()
    graph.node(answer.source, 0)
    for path in answer.paths:
        for i, n in enumerate(path.nodes):
            graph.node(n, i)
            graph.levels[n.id] = min(graph.levels[n.id], i)
        for e in path.edges:
            graph.edges[(e.start, e.type, e.end)] = e.model_dump(mode="json")
    graph.node(answer.target, max(graph.levels.values(), default=0) + 1)
    return graph


def shared_experts_graph(answer: Page[SharedExpert]) -> Graph:
    """People and the villages they tie together (dispatched to, supporting, advising)."""
    graph = Graph()
    for item in answer.items:
        person = graph.node(item.person, 0)
        for v in item.villages:
            graph.edge(v.tie, person, graph.node(Ref(id=v.id, label=v.label, name=v.name), 1), role=v.role)
        for d in item.dispatches:
            graph.edge("DISPATCHED_TO", person, graph.node(d.to, 1), role=d.role, level=d.level)
    return graph


def enterprise_reach_graph(answer: Page[EnterpriseReach]) -> Graph:
    """Enterprises, the projects that involve them, and the villages and alliances they reach."""
    graph = Graph()
    for item in answer.items:
        ent = graph.node(item.enterprise, 0)
        for p in item.projects:
            graph.edge("INVOLVES", graph.node(p, 1), ent)
        for v in item.villages:
            graph.edge(DERIVED, ent, graph.node(v, 2), via="enterprise-reach")
        for a in item.alliances:
            graph.edge(DERIVED, ent, graph.node(a, 3), via="enterprise-reach")
    return graph
