"""Loading curated case files: validate everything, constraints first, then one source at a time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from neo4j import Driver
from neo4j.exceptions import DriverError, Neo4jError

from graph.model import FIXTURE
from graph.schema import apply_schema
from graph.settings import Settings
from loaders.casefile import CaseFile, CaseValidationError, discover, validate_cases
from loaders.facts import SourceFacts, SourcePlan, facts_of, removal_of
from loaders.quotes import quote_errors
from loaders.regions import has_gazetteer, link_curated, resolve_cases
from loaders.writer import OnBatch, SourceWriter, batch_count, loaded_sources


class SourceLoadError(RuntimeError):
    """The graph refused a source, or was lost while loading it: that source is as it was,
    the ones before it are loaded (and named)."""

    def __init__(
        self,
        source_id: str,
        cause: Neo4jError | DriverError,
        loaded: list[SourcePlan],
        *,
        loaded_ids: Sequence[str] | None = None,
        uncommitted: Sequence[str] = (),
    ) -> None:
        self.source_id, self.loaded = source_id, loaded
        self.loaded_ids = list(loaded_ids if loaded_ids is not None else (p.source_id for p in loaded))
        done = _names(self.loaded_ids)
        if isinstance(cause, Neo4jError) and not isinstance(cause, DriverError):
            what = (
                f"the graph refused it, nothing of it was written "
                f"({cause.code or type(cause).__name__}: {cause.message or cause})"
            )
        else:
            what = f"the graph was lost while loading it, its transaction was not committed ({cause})"
            others = [i for i in uncommitted if i != source_id]
            if others:
                what += f", nor were those of the sources in the same transaction: {_names(others)}"
        super().__init__(f"{source_id}: {what}; sources already loaded: {done}; loading again resumes safely")


def _names(ids: Sequence[str], most: int = 20) -> str:
    if not ids:
        return "none"
    if len(ids) <= most:
        return ", ".join(ids)
    return f"{len(ids):,}, the last {most}: " + ", ".join(ids[-most:])


def sync_sources(
    writer: SourceWriter, facts: Iterable[SourceFacts], *, group_rows: int = 0
) -> Iterator[SourcePlan]:
    """Sync the sources in order, yielding each one's plan once its transaction has committed.

    With `group_rows`, consecutive sources share one transaction until they hold that many rows
    (entities and relations): far fewer statements, the same graph. If the graph refuses a
    group, its sources are synced again one per transaction, so the one refused is found and
    named (SourceFailed) and the ones before it are loaded; if the graph is lost, the group
    was not committed and its first source is named with the others.
    """
    group: list[SourceFacts] = []
    rows = 0
    for f in facts:
        group.append(f)
        rows += len(f.entities) + len(f.relations)
        if rows >= group_rows:
            yield from _sync_group(writer, group)
            group, rows = [], 0
    if group:
        yield from _sync_group(writer, group)


class SourceFailed(Exception):
    def __init__(self, source_id: str, cause: Neo4jError | DriverError, uncommitted: Sequence[str]) -> None:
        super().__init__(source_id)
        self.source_id, self.cause, self.uncommitted = source_id, cause, uncommitted


def _sync_group(writer: SourceWriter, group: Sequence[SourceFacts]) -> Iterator[SourcePlan]:
    try:
        plans = writer.sync_many(group)
    except DriverError as exc:
        raise SourceFailed(group[0].source_id, exc, [f.source_id for f in group]) from exc
    except Neo4jError as exc:
        if len(group) == 1:
            raise SourceFailed(group[0].source_id, exc, [group[0].source_id]) from exc
        plans = None
    if plans is not None:
        yield from plans
        return
    for f in group:  # refused together: which one?
        try:
            plan = writer.sync(f)
        except (Neo4jError, DriverError) as exc:
            raise SourceFailed(f.source_id, exc, [f.source_id]) from exc
        yield plan


def curated_cases(settings: Settings, paths: Sequence[Path] = ()) -> list[CaseFile]:
    """The files asked for (default: every curated file but fixtures), validated together with
    every curated file so that shared entities are checked for agreement, and their evidence
    quotes found in their articles (loaders/quotes.py). Raises CaseValidationError. A fixture
    (made up for the tests) is loaded only when named: a fixtures folder placed under the cases
    folder never reaches the served graph."""
    everything = discover([settings.cases_dir])
    if paths:
        cases = validate_cases(discover(paths), context=everything)
    else:
        cases = [c for c in validate_cases(everything) if c.source.kind != FIXTURE]
    if errors := quote_errors(cases, settings.sources_dir):
        raise CaseValidationError(errors)
    return cases


def collect_facts(
    settings: Settings, paths: Sequence[Path] = (), *, driver: Driver | None = None, prune: bool = False
) -> list[SourceFacts]:
    """Validate the files (default: every curated file) and turn them into facts to sync.

    Raises CaseValidationError, listing every problem, before anything is written. With
    `prune`, sources in the graph that no curated file states any more are synced to nothing.
    """
    if prune and (paths or driver is None):
        raise ValueError("pruning compares every curated file with the graph: give no paths, and a driver")
    cases = curated_cases(settings, paths)
    facts = [facts_of(case) for case in cases]
    if prune and driver is not None:
        on_file = {case.source.id for case in cases}
        facts += [removal_of(sid) for sid in loaded_sources(driver, settings) if sid not in on_file]
    return facts


def load(
    driver: Driver,
    settings: Settings,
    facts: Sequence[SourceFacts],
    *,
    dry_run: bool = False,
    on_batch: OnBatch | None = None,
) -> list[SourcePlan]:
    """Sync each source in its own transaction; return what changed (or would, with dry_run)."""
    writer = SourceWriter(driver, settings, on_batch)
    if dry_run:
        return [writer.plan(f) for f in facts]
    apply_schema(driver, settings)
    plans: list[SourcePlan] = []
    try:
        # curated files are few and small: one source per transaction, each loaded or not
        for plan in sync_sources(writer, facts):
            plans.append(plan)
    except SourceFailed as exc:
        raise SourceLoadError(exc.source_id, exc.cause, plans, uncommitted=exc.uncommitted) from exc.cause
    if has_gazetteer(driver, settings):
        # the official divisions are loaded: curated places join their division's node
        link_curated(driver, settings, resolve_cases(curated_cases(settings)))
    return plans


def load_if_empty(driver: Driver, settings: Settings) -> list[SourcePlan]:
    """Load every curated file into a graph that holds no source yet; otherwise leave it be."""
    if loaded_sources(driver, settings):
        return []
    return load(driver, settings, collect_facts(settings))


def total_batches(settings: Settings, facts: Sequence[SourceFacts]) -> int:
    return sum(batch_count(f, settings.batch_size) for f in facts)
