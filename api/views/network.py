"""Networks for the browser and for notebooks: label styles, the legend, pyvis, the HTML.

Importable without FastAPI. `build_network` takes nodes and edges in the shape of the API's
neighbourhood answer (`{"id", "label", "name", ...}` and `{"type", "start", "end",
"properties", "evidence"}`) and returns a pyvis `Network`; `network_html` turns one into a
standalone HTML document, with vis-network either inlined (offline notebooks, files) or
referenced at our served static URL (pages). Both draw through the same script,
`static/network.js`, so a notebook shows a network exactly as the explorer does.

Layout: positions are computed here with igraph's Fruchterman-Reingold on a grid (compiled,
about 0.2 s for 2,000 nodes on our machines) and the browser draws them with physics off;
`bench/views.py` measured this against tuned browser physics (BENCHMARKS.md). Trees are laid
out by level.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import igraph
import jinja2
import pyvis
from markupsafe import Markup
from pyvis.network import Network
from pyvis.node import Node

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
VIS_VERSION = "9.1.2"
VIS_DIR = Path(pyvis.__file__).resolve().parent / "lib" / f"vis-{VIS_VERSION}"
"""vis-network as pyvis's wheel ships it; served by us, never from a CDN."""


@dataclass(frozen=True)
class LabelStyle:
    zh: str
    en: str
    color: str
    shape: str


# One legend for every view: colour and shape by label.
LABEL_STYLES: dict[str, LabelStyle] = {
    "Alliance": LabelStyle("党建联盟", "Alliance", "#c0392b", "star"),
    "Branch": LabelStyle("党支部", "Party branch", "#e67e22", "triangle"),
    "Village": LabelStyle("村", "Village", "#27ae60", "dot"),
    "Township": LabelStyle("乡镇", "Township", "#16a085", "square"),
    "County": LabelStyle("县", "County", "#2c7873", "square"),
    "City": LabelStyle("市", "City", "#34495e", "square"),
    "Province": LabelStyle("省", "Province", "#1c2833", "square"),
    "Project": LabelStyle("项目", "Project", "#2980b9", "diamond"),
    "Enterprise": LabelStyle("企业/合作社", "Enterprise", "#8e44ad", "hexagon"),
    "Organization": LabelStyle("机构", "Organization", "#7f8c8d", "triangleDown"),
    "Person": LabelStyle("人物", "Person", "#d4ac0d", "dot"),
    "Group": LabelStyle("人员群体", "Group of people", "#d4ac0d", "ellipse"),
    "Industry": LabelStyle("产业", "Industry", "#a04000", "box"),
    "Practice": LabelStyle("机制/做法", "Practice", "#5d6d7e", "box"),
    "Source": LabelStyle("来源", "Source", "#95a5a6", "text"),
    "Quantity": LabelStyle("数量", "Quantity", "#bdc3c7", "text"),
}
UNKNOWN_STYLE = LabelStyle("其他", "Other", "#999999", "dot")

# Edge labels by type, in Chinese with the type itself for the English reader.
RELATIONSHIP_NAMES: dict[str, str] = {
    "LOCATED_IN": "位于",
    "HAS_MEMBER": "成员",
    "BASED_IN": "设在",
    "HAS_PROJECT": "项目",
    "LEADS": "牵头",
    "INVOLVES": "参与",
    "DISPATCHED_TO": "派驻",
    "HOLDS_POST": "任职",
    "ADVISES": "指导",
    "IN_INDUSTRY": "产业",
    "USES_PRACTICE": "采用",
    "SUPPORTS": "支持",
    "FOUNDED": "创建",
    "EVOLVED_FROM": "前身",
    "PART_OF": "隶属",
    "INSTANCE_OF": "属于",
    "MENTIONS": "提及",
    "HAS_QUANTITY": "数量",
    "REACHES": "触及",
}

NODE_CAP_DEFAULT = 300
NODE_CAP_MAX = 2000

Layout = Literal["force", "physics", "levels"]
Assets = Literal["inline", "static"]

# Spacing of the computed layout, in vis-network canvas units.
_EDGE_LENGTH = 150.0
_LEVEL_GAP = 170.0
_SIBLING_GAP = 150.0
_layout_lock = threading.Lock()
_CLOSING_TAG = re.compile(r"</(script|style)", re.IGNORECASE)

# Browser physics, tuned to settle and stop: used by layout="physics" (measured in bench/).
TUNED_PHYSICS: dict[str, Any] = {
    "enabled": True,
    "solver": "barnesHut",
    "barnesHut": {
        "gravitationalConstant": -6000,
        "centralGravity": 0.3,
        "springLength": 110,
        "springConstant": 0.04,
        "damping": 0.5,
        "avoidOverlap": 0,
    },
    "minVelocity": 2,
    "maxVelocity": 60,
    "stabilization": {"enabled": True, "iterations": 300, "updateInterval": 50, "fit": True},
    "timestep": 0.6,
}


def legend() -> list[dict[str, str]]:
    """The legend every view shows: label, Chinese and English name, colour, shape."""
    return [
        {"label": k, "zh": s.zh, "en": s.en, "color": s.color, "shape": s.shape}
        for k, s in LABEL_STYLES.items()
    ]


def style_of(label: str) -> LabelStyle:
    return LABEL_STYLES.get(label, UNKNOWN_STYLE)


def edge_id(edge: Mapping[str, Any]) -> str:
    """One id per relationship: its type and ends (the graph holds one of each)."""
    return f"{edge['start']}|{edge['type']}|{edge['end']}"


def build_network(
    nodes: Iterable[Mapping[str, Any]],
    edges: Iterable[Mapping[str, Any]],
    *,
    center: str | None = None,
    layout: Layout = "force",
    levels: Mapping[str, int] | None = None,
    direction: Literal["UD", "LR"] = "UD",
    height: str = "100%",
) -> Network:
    """A pyvis Network of the nodes and edges, coloured and shaped by label, edges labelled by type.

    Every node and edge keeps its data (`kind`: the label; `data`: the given dict) so the page
    can show it. Edges to nodes not given are left out. `layout`: "force" computes positions
    here (physics off in the browser); "physics" leaves them to the browser's tuned barnesHut;
    "levels" places each node at `levels[id]` (0 = top/left), for trees and paths.
    """
    unique: dict[str, dict[str, Any]] = {}
    for n in nodes:
        unique.setdefault(n["id"], dict(n))  # the first of each id wins
    node_list, ids = list(unique.values()), set(unique)
    edge_list = [dict(e) for e in edges if e["start"] in ids and e["end"] in ids]
    if layout == "levels":
        positions = _level_positions(node_list, edge_list, levels or {}, direction)
    elif layout == "force":
        positions = _force_positions(node_list, edge_list, center)
    else:
        positions = {}

    net = Network(height=height, width="100%", directed=True, cdn_resources="local")
    for n in node_list:
        style = style_of(n.get("label", ""))
        extra: dict[str, Any] = {}
        if n["id"] in positions:
            extra["x"], extra["y"] = positions[n["id"]]
        if n["id"] == center:
            extra["borderWidth"] = 4
            extra["size"] = 22
        options = {
            "label": str(n.get("name") or n["id"]),
            "color": style.color,
            "title": f"{n.get('name', '')} · {style.zh} {style.en}",
            "kind": n.get("label", ""),
            "data": n,
            **extra,
        }
        # pyvis's Node, appended as add_node would (its duplicate check scans a list: quadratic).
        node = Node(n["id"], style.shape, font_color=net.font_color, **options)
        net.nodes.append(node.options)
        net.node_ids.append(n["id"])
        net.node_map[n["id"]] = node.options
    seen: set[str] = set()
    for e in edge_list:
        eid = edge_id(e)
        if eid in seen:
            continue
        seen.add(eid)
        # pyvis's add_edge checks both ends against its node list, once per edge: its Edge
        # options go straight in, as add_edge would put them (directed, so no duplicate scan).
        net.edges.append(
            {
                "from": e["start"],
                "to": e["end"],
                "id": eid,
                "arrows": "to",
                "label": RELATIONSHIP_NAMES.get(e["type"], e["type"]),
                "title": f"{RELATIONSHIP_NAMES.get(e['type'], '')} {e['type']}",
                "kind": e["type"],
                "data": e,
            }
        )
    net.options = _options(layout, direction)  # type: ignore[assignment]
    return net


def _options(layout: Layout, direction: str) -> dict[str, Any]:
    physics = TUNED_PHYSICS if layout == "physics" else {"enabled": False}
    return {
        "autoResize": True,
        "physics": physics,
        "layout": {"improvedLayout": False, "randomSeed": 7},
        "interaction": {"hover": True, "tooltipDelay": 200, "hideEdgesOnDrag": True, "multiselect": False},
        "nodes": {"size": 14, "font": {"size": 14, "face": "Noto Sans CJK SC, sans-serif"}},
        "edges": {
            "smooth": False,
            "width": 1,
            "color": {"color": "#9aa5b1", "highlight": "#c0392b", "hover": "#34495e"},
            "font": {"size": 10, "align": "middle", "color": "#566573", "strokeWidth": 3},
            "arrows": {"to": {"enabled": True, "scaleFactor": 0.5}},
        },
        "ruralkg": {"layout": layout, "direction": direction},
    }


def _force_positions(
    nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]], center: str | None
) -> dict[str, tuple[float, float]]:
    """Fruchterman-Reingold on a grid (igraph, compiled), seeded so a view looks the same twice,
    scaled so an edge is about `_EDGE_LENGTH` long, the centre node at the origin."""
    if not nodes:
        return {}
    index = {n["id"]: i for i, n in enumerate(nodes)}
    graph = igraph.Graph(n=len(nodes), edges=[(index[e["start"]], index[e["end"]]) for e in edges])
    # A sunflower seed: deterministic, evenly spread starting points.
    seed = [
        [math.sqrt(i) * math.cos(i * 2.39996), math.sqrt(i) * math.sin(i * 2.39996)]
        for i in range(len(nodes))
    ]
    with _layout_lock:  # igraph's random generator is process-wide
        igraph.set_random_number_generator(random.Random(len(nodes)))
        coords = graph.layout_fruchterman_reingold(
            seed=seed, grid=len(nodes) > 300, niter=500 if len(nodes) <= 1000 else 250
        ).coords
    lengths = [math.dist(coords[index[e["start"]]], coords[index[e["end"]]]) for e in edges]
    lengths = sorted(x for x in lengths if x > 0)
    scale = _EDGE_LENGTH / lengths[len(lengths) // 2] if lengths else _EDGE_LENGTH
    ox, oy = coords[index[center]] if center in index else (0.0, 0.0)
    return {
        n["id"]: (round((x - ox) * scale, 1), round((y - oy) * scale, 1))
        for n, (x, y) in zip(nodes, coords, strict=True)
    }


def _level_positions(
    nodes: Sequence[Mapping[str, Any]],
    edges: Sequence[Mapping[str, Any]],
    levels: Mapping[str, int],
    direction: str,
) -> dict[str, tuple[float, float]]:
    """Each node on its level's row (UD) or column (LR), in the order given, centred."""
    rows: dict[int, list[str]] = {}
    for n in nodes:
        rows.setdefault(levels.get(n["id"], 0), []).append(n["id"])
    out: dict[str, tuple[float, float]] = {}
    for level, members in rows.items():
        for i, nid in enumerate(members):
            along = (i - (len(members) - 1) / 2) * _SIBLING_GAP
            across = level * _LEVEL_GAP
            out[nid] = (along, across) if direction == "UD" else (across * 1.4, along * 0.6)
    return out


def network_data(net: Network) -> dict[str, Any]:
    """What the page script draws: the pyvis network's nodes, edges and vis-network options."""
    nodes, edges, _heading, _height, _width, options = net.get_network_data()
    return {"nodes": nodes, "edges": edges, "options": json.loads(options)}


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# Chinese as itself (half the bytes of \u escapes); tojson still escapes < > & ' for HTML.
_env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}


def templates() -> jinja2.Environment:
    """The views' Jinja environment (autoescaping everything)."""
    return _env


def _inline(path: Path) -> Markup:
    # Inside <script>/<style> only a closing tag ends the element early; a backslash before its
    # slash means the same in a JS string or regex (a blind "</" swap would break `a</re/` comparisons).
    return Markup(_CLOSING_TAG.sub(r"<\\/\1", path.read_text(encoding="utf-8")))


def network_html(
    net: Network,
    *,
    assets: Assets = "inline",
    static_url: str = "/static",
    title: str = "ruralkg",
    height: str = "600px",
) -> str:
    """A standalone HTML document drawing `net` (legend included).

    assets="inline": vis-network and our script are inside the document (about 700 kB): it
    works from a file or a notebook with no server. assets="static": they are referenced under
    `static_url` (`/static` on our server), as the explorer pages do.
    """
    ctx: dict[str, Any] = {
        "title": title,
        "height": height,
        "data": network_data(net),
        "legend": legend(),
        "static_url": static_url.rstrip("/"),
        "inline": assets == "inline",
    }
    if assets == "inline":
        ctx["vis_js"] = _inline(VIS_DIR / "vis-network.min.js")
        ctx["vis_css"] = _inline(VIS_DIR / "vis-network.css")
        ctx["network_js"] = _inline(STATIC_DIR / "network.js")
        ctx["network_css"] = _inline(STATIC_DIR / "network.css")
    return _env.get_template("network.html").render(**ctx)


def render_network(
    nodes: Iterable[Mapping[str, Any]],
    edges: Iterable[Mapping[str, Any]],
    *,
    center: str | None = None,
    assets: Assets = "inline",
    static_url: str = "/static",
    title: str = "ruralkg",
    height: str = "600px",
) -> str:
    """`build_network` then `network_html`: e.g. the `/entities/{id}/neighborhood` answer's
    `nodes` and `edges`, drawn as in the explorer."""
    net = build_network(nodes, edges, center=center)
    return network_html(net, assets=assets, static_url=static_url, title=title, height=height)
