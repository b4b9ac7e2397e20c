"""Loading curated case files: validate everything, constraints first, then one source at a time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from neo4j import Driver
from neo4j.exceptions import DriverError, Neo4jError

from graph.schema import apply_schema
from graph.settings import Settings
from loaders.casefile import CaseFile, discover, validate_cases
from loaders.facts import SourceFacts, SourcePlan, facts_of, removal_of
from loaders.regions import has_gazetteer, link_curated, resolve_cases
from loaders.writer import OnBatch, SourceWriter, batch_count, loaded_sources


class SourceLoadError(RuntimeError):
    """The graph refused a source, or was lost while loading it: that source is as it was,
    the ones before it are loaded (and named)."""

    def __init__(self, source_id: str, cause: Neo4jError | DriverError, loaded: list[SourcePlan]) -> None:
        self.source_id, self.loaded = source_id, loaded
        done = ", ".join(p.source_id for p in loaded) or "none"
        if isinstance(cause, Neo4jError) and not isinstance(cause, DriverError):
            what = (
                f"the graph refused it, nothing of it was written "
                f"({cause.code or type(cause).__name__}: {cause.message or cause})"
            )
        else:
            what = f"the graph was lost while loading it, its transaction was not committed ({cause})"
        super().__init__(f"{source_id}: {what}; sources already loaded: {done}; loading again resumes safely")


def curated_cases(settings: Settings, paths: Sequence[Path] = ()) -> list[CaseFile]:
    """The files asked for (default: every curated file), validated together with every curated
    file so that shared entities are checked for agreement. Raises CaseValidationError."""
    everything = discover([settings.cases_dir])
    return validate_cases(discover(paths) if paths else everything, context=everything)


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
    plans = []
    for f in facts:
        try:
            plans.append(writer.sync(f))
        except (Neo4jError, DriverError) as exc:
            raise SourceLoadError(f.source_id, exc, plans) from exc
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
