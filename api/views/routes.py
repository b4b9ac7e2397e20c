"""The explorer's pages: `/` and `/view/...`, HTML drawn from the catalog, served offline.

Every page carries a Content-Security-Policy that allows scripts from our own server only
(no inline script: the data ride in `<script type="application/json">`), so a name in the
data can never run as code; vis-network and our scripts are served under /static.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import Field, create_model
from starlette.concurrency import run_in_threadpool
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles

from api import problems
from api.deps import GraphDep, ReadAccess, SettingsDep
from api.graph import answer as run_entry
from api.views import graphs
from api.views.coverage_map import points
from api.views.network import (
    LABEL_STYLES,
    NODE_CAP_DEFAULT,
    NODE_CAP_MAX,
    RELATIONSHIP_NAMES,
    STATIC_DIR,
    VIS_DIR,
    build_network,
    legend,
    network_data,
    style_of,
    templates,
)
from graph.model import LABEL_PREFIXES
from queries import get_entry
from queries.catalog import Params
from queries.explore import (
    NEIGHBORHOOD_ENTRY,
    PATH,
    PATH_DEPTH_MAX,
    Depth,
    JoinThroughShared,
    NeighborhoodParams,
    PathParams,
    ThroughShared,
)
from queries.models import DOMAIN_TYPES, SHARED_TYPES, Labels, RelTypes
from queries.regions import COVERAGE_MAP, MapParams

STATIC_URL = "/static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
GZIP_MIN_BYTES = 1024
ADMINISTRATIVE = "LOCATED_IN"
"""The administrative hierarchy: what "organisational ties only" leaves out."""
PAGE_HEADERS = {
    "Vary": "Accept-Encoding",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _problem_schema(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            problems.PROBLEM: {
                "schema": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                    },
                }
            }
        },
    }


PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the page", "content": {"text/html": {"schema": {"type": "string"}}}},
    400: _problem_schema("a parameter is out of bounds or malformed"),
    404: _problem_schema("no such entity, alliance or network query"),
    503: _problem_schema("the graph cannot be reached"),
    504: _problem_schema("the query ran past RURALKG_QUERY_TIMEOUT"),
}

# Catalog entries whose answer is a network, and how to draw it.
NETWORK_QUERIES: dict[str, tuple[Callable[[Any], graphs.Graph], str, str]] = {
    "shared-experts": (
        graphs.shared_experts_graph,
        "共享专家 Shared experts",
        "people and the villages they link",
    ),
    "enterprise-reach": (
        graphs.enterprise_reach_graph,
        "企业辐射 Enterprise reach",
        "enterprises and what they touch",
    ),
}

EntityId = Annotated[
    str,
    Path(
        min_length=3, max_length=200, description="the entity's id, e.g. village:fujian.zhouning.lidun.qinxi"
    ),
]


class ViewQuery(Params):
    limit: int = Field(
        NODE_CAP_DEFAULT,
        ge=1,
        le=NODE_CAP_MAX,
        description=f"node cap (at most {NODE_CAP_MAX}); the page says what it left out",
    )
    labels: Labels | None = Field(None, description="only nodes with one of these labels")
    types: RelTypes | None = Field(None, description="only these relationship types")
    layout: Literal["force", "physics"] = Field(
        "force",
        description="force: positions computed on the server (fast); physics: laid out by the browser",
    )


Organisational = Annotated[
    bool,
    Field(
        description=(
            f"organisational ties only: leave the administrative hierarchy ({ADMINISTRATIVE}) out, "
            "so two villages are not joined by being in one county"
        )
    ),
]


class EntityViewQuery(ViewQuery):
    depth: Depth | None = Field(
        None,
        description=(
            "hops from the entity, 1 to 3; by default 2 for a village (its branch's alliance is two "
            "hops away), 1 for anything else"
        ),
    )
    through_shared: ThroughShared = False
    organisational: Organisational = False


class PathViewQuery(ViewQuery):
    source: str = Field(min_length=3, max_length=200, description="id of one end")
    target: str = Field(min_length=3, max_length=200, description="id of the other end")
    max_depth: int = Field(4, ge=1, le=PATH_DEPTH_MAX, description="longest path considered")
    paths: int = Field(10, ge=1, le=50, description="at most this many shortest paths")
    through_shared: JoinThroughShared = False
    organisational: Organisational = False


def default_depth(entity_id: str) -> int:
    """A village's alliance is two hops away (village <- branch <- alliance): open it at 2."""
    return 2 if entity_id.startswith(f"{LABEL_PREFIXES['Village']}:") else 1


def without_administrative(types: Sequence[str]) -> list[str]:
    return [t for t in types if t != ADMINISTRATIVE]


def next_searches(query: PathViewQuery, used: list[str]) -> list[dict[str, Any]]:
    """The searches to try when one found nothing, each wider than `query`: deeper, through the
    shared vocabulary, both, through the administrative hierarchy, all of these; each a label
    and the view's query string."""
    base = query.model_dump(mode="json", exclude_defaults=True)
    deeper: dict[str, Any] = {"max_depth": PATH_DEPTH_MAX} if query.max_depth < PATH_DEPTH_MAX else {}
    shared: dict[str, Any] = {}
    if not set(SHARED_TYPES) <= set(used):
        shared = {"through_shared": True}
        if query.types:
            shared["types"] = sorted(set(query.types) | set(SHARED_TYPES))
    admin: dict[str, Any] = {}
    if ADMINISTRATIVE not in used:
        admin = {"organisational": False}
        if query.types:
            admin["types"] = sorted(set(query.types) | {ADMINISTRATIVE})
    steps: list[tuple[str, dict[str, Any]]] = []
    if deeper:
        steps.append((f"更深 deeper: {PATH_DEPTH_MAX} 步 steps", deeper))
    if shared:
        steps.append(("经共享词表 through shared industries and practices", shared))
    if deeper and shared:
        steps.append((f"更深并经共享词表 {PATH_DEPTH_MAX} steps, through shared vocabulary", deeper | shared))
    if admin:
        steps.append(("经行政区划 through the administrative hierarchy", admin))
    if admin and (deeper or shared):
        together = deeper | shared | admin
        if "types" in together:
            together["types"] = sorted(set(query.types or ()) | set(SHARED_TYPES) | {ADMINISTRATIVE})
        steps.append(("以上全部 all of these", together))
    out = []
    for text, change in steps:
        params = {k: v for k, v in (base | change).items() if v not in (None, False, [])}
        out.append(
            {
                "label": text,
                "query": {k: ",".join(v) if isinstance(v, list) else v for k, v in params.items()},
            }
        )
    return out


def render_page(request: Request, template: str, **ctx: Any) -> HTMLResponse:
    html = (
        templates()
        .get_template(template)
        .render(
            static_url=STATIC_URL,
            legend=legend(),
            styles={
                k: {"zh": s.zh, "en": s.en, "color": s.color, "shape": s.shape}
                for k, s in LABEL_STYLES.items()
            },
            relationship_names=RELATIONSHIP_NAMES,
            nav_queries=[{"name": k, "title": v[1]} for k, v in NETWORK_QUERIES.items()],
            **ctx,
        )
    )
    body = html.encode("utf-8")
    headers = dict(PAGE_HEADERS)
    # A 2,000-node page is about 1.4 MB of JSON that gzip takes to a tenth.
    if len(body) > GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return HTMLResponse(body, headers=headers)


async def _network_page(
    request: Request,
    *,
    view: str,
    title: str,
    subtitle: str,
    graph: graphs.Graph,
    query: ViewQuery,
    center: str | None,
    state: dict[str, Any],
    total_nodes: int | None = None,
    server_labels: bool = False,
    levels: bool = False,
    direction: Literal["UD", "LR"] = "UD",
    extra: dict[str, Any] | None = None,
) -> HTMLResponse:
    """Cap and filter the graph, lay it out (in a worker thread: it is CPU work) and render."""
    cut = graphs.capped(
        graph,
        query.limit,
        keep=[center] if center else [],
        labels=None if server_labels else query.labels,
        types=None if server_labels else query.types,
    )
    layout = "levels" if levels else query.layout
    net = await run_in_threadpool(
        build_network,
        cut.nodes,
        cut.edges,
        center=center,
        layout=layout,
        levels=cut.levels,
        direction=direction,
        cluster=not levels,
    )
    total = max(total_nodes if total_nodes is not None else cut.total_nodes, len(cut.nodes))
    page = {
        "view": view,
        "center": center,
        "state": {k: v for k, v in state.items() if v not in (None, [], "")},
        "cap": {
            "limit": query.limit,
            "max": NODE_CAP_MAX,
            "shown": len(cut.nodes),
            "total": total,
            "cut": total - len(cut.nodes),
            "by_label": cut.cut_by_label,
        },
        "expand": {"limit": min(query.limit, 100)},
        **(extra or {}),
    }
    return render_page(
        request,
        "view.html",
        title=title,
        subtitle=subtitle,
        page=page,
        data=network_data(net),
        cap=page["cap"],
    )


# The pages show what the read routes show: closed with them (RURALKG_READ_REQUIRES_KEY).
router = APIRouter(tags=["views"], default_response_class=HTMLResponse, dependencies=[ReadAccess])


@router.get(
    "/",
    responses={200: PAGE_RESPONSES[200]},
    summary="The explorer: search with suggestions, results by label, the legend",
)
async def explorer(request: Request) -> HTMLResponse:
    return render_page(
        request,
        "index.html",
        title="ruralkg 党建联盟知识图谱",
        queries=[{"name": k, "title": v[1], "en": v[2]} for k, v in NETWORK_QUERIES.items()],
    )


@router.get(
    "/view/entities/{entity_id}",
    responses=PAGE_RESPONSES,
    summary="An entity's neighbourhood as an interactive network",
)
async def entity_view(
    entity_id: EntityId,
    query: Annotated[EntityViewQuery, Query()],
    request: Request,
    graph: GraphDep,
) -> HTMLResponse:
    depth = query.depth or default_depth(entity_id)
    types = query.types
    if query.organisational:
        types = without_administrative(query.types or DOMAIN_TYPES)  # type: ignore[assignment]  # RelType names
    params = NeighborhoodParams(
        id=entity_id,
        depth=depth,
        labels=query.labels,
        types=types,
        through_shared=query.through_shared,
        limit=max(1, query.limit - 1),  # the view's cap counts the centre too
    )
    answer = await run_entry(graph, NEIGHBORHOOD_ENTRY, params)
    style = style_of(answer.center.label)
    return await _network_page(
        request,
        view="entity",
        title=answer.center.name,
        subtitle=f"{style.zh} {style.en} · {depth} 跳邻域" + (" · 组织关系" if query.organisational else ""),
        graph=graphs.neighborhood_graph(answer),
        query=query,
        center=entity_id,
        state=query.model_dump(mode="json") | {"id": entity_id, "depth": depth},
        total_nodes=answer.total_nodes + 1,
        server_labels=True,
        extra={"expand": {"limit": min(query.limit, 100), "types": types}},
    )


@router.get(
    "/view/alliances/{alliance_id}",
    responses=PAGE_RESPONSES,
    summary="An alliance as a tree: branches, villages, projects, enterprises",
)
async def alliance_view(
    alliance_id: EntityId,
    query: Annotated[ViewQuery, Query()],
    request: Request,
    graph: GraphDep,
) -> HTMLResponse:
    entry = get_entry("alliance-tree")
    tree = await run_entry(graph, entry, entry.params(id=alliance_id))
    return await _network_page(
        request,
        view="alliance",
        title=tree.name,
        subtitle="党建联盟树 Alliance tree",
        graph=graphs.alliance_graph(tree),
        query=query,
        center=alliance_id,
        state=query.model_dump(mode="json") | {"id": alliance_id},
        levels=True,
    )


@router.get("/view/paths", responses=PAGE_RESPONSES, summary="The shortest connections between two entities")
async def paths_view(
    query: Annotated[PathViewQuery, Query()], request: Request, graph: GraphDep
) -> HTMLResponse:
    params = PathParams(
        source=query.source,
        target=query.target,
        max_depth=query.max_depth,
        types=query.types,
        limit=query.paths,
        through_shared=query.through_shared,
    )
    if query.organisational:
        params = params.model_copy(update={"types": without_administrative(params.allowed_types())})
    used = list(params.allowed_types())
    answer = await run_entry(graph, PATH, params)
    found = len(answer.paths)
    searched = {
        "max_depth": query.max_depth,
        "types": used,
        "through_shared": query.through_shared,
        "organisational": query.organisational,
    }
    return await _network_page(
        request,
        view="paths",
        title=f"{answer.source.name} ↔ {answer.target.name}",
        subtitle=f"最短联系 Shortest connections: {found} 条"
        if found
        else "没有找到联系 No connection found",
        graph=graphs.paths_graph(answer),
        query=query,
        center=query.source,
        state=query.model_dump(mode="json"),
        levels=True,
        direction="LR",
        extra={
            "searched": searched,
            "next": [] if found else next_searches(query, used),
            "path_depth_max": PATH_DEPTH_MAX,
        },
    )


def _query_view_model(name: str) -> type[ViewQuery]:
    """The view's parameters and the entry's (its page size aside: the answer is read whole,
    up to 500 items, and the node cap applies), in one model, so OpenAPI declares them all."""
    fields: dict[str, Any] = {
        key: (field.annotation, field)
        for key, field in get_entry(name).params.model_fields.items()
        if key not in ViewQuery.model_fields
    }
    model: type[ViewQuery] = create_model(  # type: ignore[call-overload]
        "".join(part.title() for part in name.split("-")) + "ViewQuery", __base__=ViewQuery, **fields
    )
    return model


def _add_query_view(name: str, to_graph: Callable[[Any], graphs.Graph], title: str, en: str) -> None:
    entry = get_entry(name)
    model = _query_view_model(name)

    async def view(
        query: Annotated[model, Query()],  # type: ignore[valid-type]
        request: Request,
        graph: GraphDep,
    ) -> HTMLResponse:
        asked: ViewQuery = query
        given = asked.model_dump(exclude=set(ViewQuery.model_fields), exclude_none=True)
        params = entry.params.model_validate(
            given | ({"limit": 500} if "limit" in entry.params.model_fields else {})
        )
        answer = await run_entry(graph, entry, params)
        entry_state = params.model_dump(mode="json", exclude_defaults=True)
        entry_state.pop("limit", None)
        return await _network_page(
            request,
            view="query",
            title=title,
            subtitle=entry.summary_zh,
            graph=to_graph(answer),
            query=asked,
            center=None,
            state=asked.model_dump(mode="json", include=set(ViewQuery.model_fields))
            | entry_state
            | {"name": name},
        )

    # The module's annotations are strings (PEP 563), resolved in its globals where `model` is
    # not: give FastAPI the class itself.
    view.__annotations__["query"] = Annotated[model, Query()]
    router.add_api_route(
        f"/view/queries/{name}",
        view,
        methods=["GET"],
        response_class=HTMLResponse,
        responses=PAGE_RESPONSES,
        summary=f"{title}: {en}, as a network",
        description=f"The catalog entry `{name}` (GET /queries) drawn as a network: {entry.summary_en}.",
    )


for _name, (_to_graph, _title, _en) in NETWORK_QUERIES.items():
    _add_query_view(_name, _to_graph, _title, _en)


@router.get("/view/queries/{name}", include_in_schema=False)
async def no_query_view(
    name: Annotated[str, Path(min_length=1, max_length=64)],
) -> Response:
    get_entry(name)  # an unknown name is a 404 naming every query
    return problems.problem(
        404, "Not found", f"query {name!r} has no network view", known=sorted(NETWORK_QUERIES)
    )


CONSOLE_EXAMPLE = (
    "MATCH (a:Alliance)-[r:HAS_MEMBER]->(m)\nWHERE a.id STARTS WITH $prefix\nRETURN a, r, m\nLIMIT 50"
)


@router.get(
    "/console",
    responses={
        200: PAGE_RESPONSES[200],
        403: _problem_schema("closed: no API key is configured, so /cypher is closed too"),
    },
    summary="The Cypher console: an editor that runs read-only queries through POST /cypher",
)
async def console(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The page sends the key the user types with each query: a page load cannot carry it."""
    if not settings.api_keys:
        raise problems.BadRequest(
            403, "Closed", "the console is closed: no API key is configured (RURALKG_API_KEYS)"
        )
    options = network_data(build_network([], [], layout="physics"))["options"]
    return render_page(
        request,
        "console.html",
        title="Cypher 控制台 console",
        console={
            "row_cap": settings.cypher_row_cap,
            "timeout": settings.cypher_timeout,
            "options": options,
            "example": CONSOLE_EXAMPLE,
        },
    )


@router.get(
    "/map",
    responses={200: PAGE_RESPONSES[200], 503: PAGE_RESPONSES[503], 504: PAGE_RESPONSES[504]},
    summary="The coverage map: divisions at their seats, sized and coloured by coverage",
)
async def coverage_map(request: Request, graph: GraphDep) -> HTMLResponse:
    answer = await run_entry(graph, COVERAGE_MAP, MapParams())
    return render_page(request, "map.html", title="覆盖地图 Coverage map", points=points(answer))


def install(app: FastAPI) -> None:
    """The pages, and the files they load (vis-network from pyvis's wheel, our scripts), gzipped."""
    app.include_router(router)
    app.mount(f"{STATIC_URL}/vis", GZipMiddleware(StaticFiles(directory=VIS_DIR)), name="vis")
    app.mount(
        f"{STATIC_URL}/ruralkg", GZipMiddleware(StaticFiles(directory=STATIC_DIR)), name="ruralkg-static"
    )
