"""The review pages: `/review` lists the drafts, `/review/{name}` shows one beside its article.

A person accepts, mends or rejects each proposal there; saving writes the accepted records as
a case file next to the draft (checked against every curated file first). Nothing reaches the
graph until someone runs `ruralkg load` on it. The pages are shells (no data in the HTML, no
inline script, text set as text by review.js); the data come from the JSON routes below,
which take the X-API-Key header whenever keys are configured, since saving writes files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import SettingsDep, api_key_header, key_is_valid
from api.problems import BadRequest
from api.views.routes import render_page
from graph.settings import Settings
from loaders.casefile import CaseValidationError
from loaders.draft.review import Review, ReviewError, draft_name_ok, save_review
from loaders.draft.write import DRAFT_SUFFIX, read_draft

MAX_DRAFTS = 500
MAX_DRAFT_BYTES = 2_000_000
MAX_RECORDS = 5_000

DraftName = Annotated[
    str, PathParam(min_length=1, max_length=120, description="the draft file's name without .draft.yaml")
]


async def review_access(request: Request, settings: SettingsDep) -> None:
    """Open on a machine with no keys (the local default); with keys, a valid one is required."""
    if settings.api_keys and not key_is_valid(request.headers.get(api_key_header.model.name), settings):
        raise BadRequest(401, "Unauthorized", "the review writes files: a valid X-API-Key header is required")


ReviewAccess = Depends(review_access)
router = APIRouter(include_in_schema=False)


def _draft_path(settings: Settings, name: str) -> Path:
    if not draft_name_ok(name):
        raise BadRequest(400, "Bad request", f"{name!r} is not a draft name (letters, digits, . - _)")
    path = settings.drafts_path / f"{name}{DRAFT_SUFFIX}"
    if not path.is_file():
        raise BadRequest(404, "Not found", f"no draft {name!r} in the drafts folder")
    if path.stat().st_size > MAX_DRAFT_BYTES:
        raise BadRequest(400, "Bad request", f"draft {name!r} is larger than {MAX_DRAFT_BYTES} bytes")
    return path


def _load(settings: Settings, name: str) -> dict[str, Any]:
    try:
        return read_draft(_draft_path(settings, name))
    except ValueError as exc:
        raise BadRequest(400, "Bad request", str(exc)) from None


@router.get("/review", response_class=HTMLResponse)
async def review_list_page(request: Request) -> HTMLResponse:
    return render_page(request, "review_list.html", title="草稿审阅 Review drafts")


@router.get("/review/{name}", response_class=HTMLResponse)
async def review_page(request: Request, name: DraftName) -> HTMLResponse:
    if not draft_name_ok(name):
        raise BadRequest(400, "Bad request", f"{name!r} is not a draft name (letters, digits, . - _)")
    return render_page(request, "review.html", title=f"审阅 Review {name}", name=name)


@router.get("/review-api/drafts", dependencies=[ReviewAccess])
async def list_drafts(settings: SettingsDep) -> dict[str, Any]:
    folder = settings.drafts_path
    paths = sorted(folder.glob(f"*{DRAFT_SUFFIX}"))[:MAX_DRAFTS] if folder.is_dir() else []

    def summary(path: Path) -> dict[str, Any]:
        name = path.name.removesuffix(DRAFT_SUFFIX)
        try:
            d = read_draft(path) if path.stat().st_size <= MAX_DRAFT_BYTES else {}
        except ValueError:
            d = {}
        source = d.get("source") or {}
        return {
            "name": name,
            "title": source.get("title"),
            "date": source.get("date"),
            "entities": len(d.get("entities") or []),
            "relations": len(d.get("relations") or []),
            "quantities": len(d.get("quantities") or []),
            "saved": (folder / f"{name}.yaml").is_file(),
        }

    return {"folder": str(folder), "drafts": await run_in_threadpool(lambda: [summary(p) for p in paths])}


@router.get("/review-api/drafts/{name}", dependencies=[ReviewAccess])
async def get_draft(name: DraftName, settings: SettingsDep) -> dict[str, Any]:
    return await run_in_threadpool(_load, settings, name)


class SaveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rejected: list[Annotated[str, Field(max_length=400)]] = Field(
        default_factory=list, max_length=MAX_RECORDS
    )
    edits: dict[str, dict[str, Annotated[str, Field(max_length=200)]]] = Field(
        default_factory=dict, max_length=MAX_RECORDS
    )


@router.post("/review-api/drafts/{name}/save", dependencies=[ReviewAccess])
async def save_draft(name: DraftName, body: SaveBody, settings: SettingsDep) -> JSONResponse:
    draft = _load(settings, name)
    out = settings.drafts_path / f"{name}.yaml"

    def work() -> dict[str, Any]:
        return save_review(draft, Review(body.rejected, body.edits), out, settings.cases_dir)

    try:
        case = await run_in_threadpool(work)
    except ReviewError as exc:
        raise BadRequest(400, "Bad request", str(exc)) from None
    except CaseValidationError as exc:
        raise BadRequest(
            422,
            "Unprocessable",
            f"the case file would not pass ruralkg check ({len(exc.errors)} problems)",
            errors=[str(e) for e in exc.errors[:50]],
        ) from None
    counts = {k: len(case[k]) for k in ("entities", "relations", "quantities")}
    return JSONResponse(
        {"path": str(out), **counts, "check": f"ruralkg check {out}", "load": f"ruralkg load {out}"}
    )


def install(app: FastAPI) -> None:
    app.include_router(router)
