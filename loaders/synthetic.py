"""A deterministic synthetic overlay on the real divisions, for national-scale benchmarks.

Nobody publishes the country's alliances, branches, dispatched people, enterprises and projects
in one file, so this lays them over the official villages (loaders.gazetteer) with the
national proportions the issue names: a branch in every administrative village (居委会 and
社区 are not villages), alliances of 2-20 villages of one township or of neighbouring townships,
first secretaries, science-and-technology commissioners and township officials dispatched to
1-5 villages, companies and cooperatives that support villages beyond their own, projects held
by villages or alliances, and industries and practices from the shared vocabulary. Degrees are
skewed (Pareto sizes, Zipf industry popularity): most alliances are small, a few are large.

Scale 1 covers every administrative village (493,858); scale s covers whole counties, chosen
by a seeded order that keeps a prefecture's counties together, until s of the villages are
covered. Each county is one source (`source:synthetic.s<seed>.<county code>`), generated from
its own seeded random stream, so a county's data depends only on the seed and the county. It
is written either as curated case files (the same validation and loader) or as facts handed
straight to the loader's writer; neither holds more than one county in memory.

"Neighbouring townships" are townships next to each other in code order within a county: the
official list numbers townships roughly by place, and it has no adjacency.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

import yaml
from neo4j import Driver

from graph import model
from graph.model import SYNTHETIC
from graph.schema import apply_schema
from graph.settings import Settings
from graph.vocabulary import SHARED_ENTITIES
from loaders.casefile import validate_cases
from loaders.facts import RELATION_PROPS, EntityFact, RelationFact, SourceFacts, facts_of
from loaders.gazetteer import Division, read_divisions, short_name
from loaders.load import SourceFailed, SourceLoadError, sync_sources
from loaders.regions import RegionWriter, division_kind, division_rows, has_gazetteer
from loaders.writer import SourceWriter

EVIDENCE = "合成数据，仅供压力测试，非真实事实"
"""Every synthetic fact says what it is, so nobody mistakes it for a curated one."""

# Per administrative village, at every scale (scale picks how many villages, not the density).
RATES = {
    "alliance_cover": 0.6,  # share of villages in at least one alliance (~70,000 alliances at scale 1)
    "first_secretary": 0.41,  # ~200,000 dispatched first secretaries
    "commissioner": 0.8,  # far more science-and-technology commissioners (~395,000)
    "official": 0.2,  # township officials who serve villages
    "company": 0.6,
    "cooperative": 1.6,
    "project": 0.8,
}
# How many villages a person serves: 1 to 5, most serve one.
PERSON_SPAN = ((1, 2, 3, 4, 5), (0.55, 0.2, 0.12, 0.08, 0.05))
DISPATCH = {
    "first_secretary": ("第一书记", ("county", "city", "province"), (0.6, 0.3, 0.1)),
    "commissioner": ("科技特派员", ("county", "city", "province"), (0.5, 0.3, 0.2)),
    "official": ("乡村振兴指导员", ("township",), (1.0,)),
}
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚"
)
GIVEN = "建国华明军平志伟海强文勇杰涛斌超波辉刚健红英芳玲秀兰丽静敏燕霞春梅林云峰磊晓东"
INDUSTRIES = sorted(k for k, v in SHARED_ENTITIES.items() if v.label == "Industry")
PRACTICES = sorted(k for k, v in SHARED_ENTITIES.items() if v.label == "Practice")
JOINT_PRACTICE = "practice:joint-village-party-building"
# Zipf popularity: a few industries (tourism, tea) are everywhere, most are rarer.
INDUSTRY_WEIGHTS = [1 / (i + 1) for i in range(len(INDUSTRIES))]
PROJECT_KINDS = ("industry", "tourism", "infrastructure", "service", "culture", "governance")

_MODELS: dict[str, type[model.BaseModel]] = {
    cls.model_fields["label"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in (
        model.Township,
        model.Village,
        model.Alliance,
        model.Branch,
        model.Project,
        model.Enterprise,
        model.Person,
        model.Industry,
        model.Practice,
    )
}
_ENTITY_FIELDS = {
    label: tuple(f for f in cls.model_fields if f not in {"id", "label", "aliases", "evidence"})
    for label, cls in _MODELS.items()
}


@dataclass(frozen=True)
class SynthSpec:
    seed: int = 1
    scale: float = 0.01

    def __post_init__(self) -> None:
        if not 0 < self.scale <= 1:
            raise ValueError(f"--scale is a share of the villages: 0 < scale <= 1, not {self.scale}")

    def source_id(self, county: str) -> str:
        return f"source:synthetic.s{self.seed}.{county}"


@dataclass
class County:
    """One county's divisions: what a county's synthetic source is generated from."""

    code: str
    name: str
    townships: list[Division]
    villages: list[Division]  # administrative villages, by code


@dataclass
class Selection:
    counties: list[str]  # 6-digit codes, in code order
    villages: int
    ancestors: set[str] = field(default_factory=set)  # province and city codes above them

    def divisions(self, path: Path | None = None) -> Iterator[Division]:
        """The official divisions the overlay needs, parents first: the counties' whole
        subtrees and their ancestors (for the gazetteer's RegionWriter)."""
        wanted = set(self.counties)
        stream = read_divisions() if path is None else read_divisions(path=path)
        for d in stream:
            if d.code in self.ancestors or (len(d.code) >= 6 and d.code[:6] in wanted):
                yield d


def is_village(d: Division) -> bool:
    """An administrative village (村委会), not an urban residents' committee (居委会, 社区)."""
    return d.level == 5 and not d.name.endswith(("居委会", "居民委员会", "社区"))


def _rank(seed: int, key: str) -> str:
    return hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).hexdigest()


def select(spec: SynthSpec, exclude: Iterable[str] = ()) -> Selection:
    """Whole counties, a prefecture's together, in a seeded order, until `scale` of the
    administrative villages are covered. `exclude`: counties to leave alone (the curated ones)."""
    skip = set(exclude)
    per_county: Counter[str] = Counter()
    for d in read_divisions():
        if is_village(d):
            per_county[d.code[:6]] += 1
    total = sum(per_county.values())
    order = sorted(
        (c for c in per_county if c not in skip), key=lambda c: (_rank(spec.seed, c[:4]), _rank(spec.seed, c))
    )
    chosen, covered = [], 0
    target = spec.scale * total
    for county in order:
        if covered >= target:
            break
        chosen.append(county)
        covered += per_county[county]
    ancestors = {c[:2] for c in chosen} | {c[:4] for c in chosen}
    return Selection(sorted(chosen), covered, ancestors)


def counties(selection: Selection) -> Iterator[County]:
    """The selected counties with their townships and villages, one at a time (the village
    level is streamed: only one county's villages are held)."""
    wanted = set(selection.counties)
    names: dict[str, str] = {}
    townships: dict[str, list[Division]] = {}
    stream = read_divisions()
    for d in stream:
        if d.level == 3 and d.code in wanted:
            names[d.code] = d.name
        elif d.level == 4 and d.code[:6] in wanted:
            townships.setdefault(d.code[:6], []).append(d)
        elif d.level == 5:
            first = d
            break
    else:
        return

    def villages() -> Iterator[Division]:
        yield first
        yield from stream

    for code, group in groupby(
        (v for v in villages() if v.code[:6] in wanted and is_village(v)), key=lambda v: v.code[:6]
    ):
        yield County(code, names.get(code, code), townships.get(code, []), list(group))


# -- one county ---------------------------------------------------------------------------------


class _Case:
    """A county's case file being built: entities and relations, each id and key once."""

    def __init__(self) -> None:
        self.entities: dict[str, dict[str, Any]] = {}
        self.relations: dict[tuple[str, str, str], dict[str, Any]] = {}

    def entity(self, ident: str, label: str, name: str, **attrs: Any) -> str:
        if ident not in self.entities:
            self.entities[ident] = {"id": ident, "label": label, "name": name, **attrs, "evidence": EVIDENCE}
        return ident

    def shared(self, ident: str) -> str:
        s = SHARED_ENTITIES[ident]
        attrs = (
            {"name_en": s.name_en}
            | ({"kind": s.kind} if s.kind else {})
            | ({"description": s.definition} if s.definition else {})
        )
        return self.entity(ident, s.label, s.name, **attrs)

    def relate(self, rel_type: str, start: str, end: str, **attrs: Any) -> None:
        if start != end:
            self.relations.setdefault(
                (rel_type, start, end),
                {"type": rel_type, "from": start, "to": end, **attrs, "evidence": EVIDENCE},
            )


def _count(rng: random.Random, expected: float) -> int:
    """A whole number with the given expectation (fractions rounded at random)."""
    whole = int(expected)
    return whole + (rng.random() < expected - whole)


def _pareto_size(rng: random.Random, low: int, high: int, alpha: float) -> int:
    return min(high, low - 1 + int(rng.paretovariate(alpha)))


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def generate(spec: SynthSpec, county: County) -> dict[str, Any]:
    """One county's case file (as the YAML holds it), from the seed and the county alone."""
    rng = random.Random(f"{spec.seed}:{county.code}")
    case = _Case()
    ccode = county.code
    by_township: dict[str, list[Division]] = {}
    for v in county.villages:
        by_township.setdefault(v.code[:9], []).append(v)
    township_codes = [t.code for t in county.townships if t.code in by_township]
    vid = {v.code: v.id for v in county.villages}
    branch = {v.code: f"branch:cn.{v.code}" for v in county.villages}
    township_of = {t.code: t for t in county.townships}

    def neighbourhood(tcode: str) -> list[Division]:
        """The township's villages, then those of the townships next to it in code order."""
        i = township_codes.index(tcode)
        near = [tcode] + [township_codes[j] for j in (i - 1, i + 1) if 0 <= j < len(township_codes)]
        return [v for t in near for v in by_township[t]]

    def pick_villages(home: Division, k: int) -> list[Division]:
        pool = [v for v in neighbourhood(home.code[:9]) if v.code != home.code]
        return [home, *rng.sample(pool, min(k - 1, len(pool)))]

    def industry() -> str:
        return case.shared(rng.choices(INDUSTRIES, INDUSTRY_WEIGHTS)[0])

    # villages, their branches and industries
    for v in county.villages:
        case.entity(vid[v.code], "Village", v.name, division="行政村")
        short = short_name(v.name)
        case.entity(branch[v.code], "Branch", f"中共{short}村支部委员会", kind="village")
        case.relate("BASED_IN", branch[v.code], vid[v.code])
        for _ in range(_pareto_size(rng, 1, 3, 2.0)):
            case.relate("IN_INDUSTRY", vid[v.code], industry())

    # alliances: one township or neighbouring ones, 2-20 villages, until the cover rate is met
    target = RATES["alliance_cover"] * len(county.villages)
    covered: set[str] = set()
    n_alliances = 0
    while len(covered) < target and len(county.villages) >= 2:
        home = rng.choice(county.villages)
        members = pick_villages(home, _pareto_size(rng, 2, 20, 1.2))
        if len(members) < 2:
            break
        n_alliances += 1
        township = township_of[home.code[:9]]
        aid = case.entity(
            f"alliance:cn.{ccode}.a{n_alliances}",
            "Alliance",
            f"{short_name(township.name)}片区党建联盟{n_alliances}",
            kind=rng.choice(("片区党建联盟", "联村党组织", "联村党总支", "党建联盟")),
        )
        case.entity(township.id, "Township", township.name, division=division_kind(township))
        case.relate("LOCATED_IN", aid, township.id)
        case.relate("USES_PRACTICE", aid, case.shared(JOINT_PRACTICE))
        if rng.random() < 0.3:
            case.relate("USES_PRACTICE", aid, case.shared(rng.choice(PRACTICES)))
        case.relate("IN_INDUSTRY", aid, industry())
        for m in members:
            case.relate("HAS_MEMBER", aid, branch[m.code])
            covered.add(m.code)

    alliances = [i for i, e in case.entities.items() if e["label"] == "Alliance"]

    # dispatched people
    n_people = 0
    for kind, (role, levels, weights) in DISPATCH.items():
        for _ in range(_count(rng, RATES[kind] * len(county.villages))):
            n_people += 1
            pid = case.entity(f"person:cn.{ccode}.p{n_people}", "Person", _person_name(rng))
            level = rng.choices(levels, weights)[0]
            home = rng.choice(county.villages)
            for v in pick_villages(home, rng.choices(*PERSON_SPAN)[0]):
                case.relate("DISPATCHED_TO", pid, vid[v.code], role=role, level=level)
            if kind == "first_secretary":
                case.relate("HOLDS_POST", pid, branch[home.code], role="第一书记")
            elif alliances and rng.random() < 0.1:
                case.relate("HOLDS_POST", pid, rng.choice(alliances), role="副书记")

    # companies and cooperatives: located in one village, supporting others nearby
    enterprises: list[str] = []
    for kind, rate, span in (("company", RATES["company"], 8), ("cooperative", RATES["cooperative"], 3)):
        for _ in range(_count(rng, rate * len(county.villages))):
            home = rng.choice(county.villages)
            eid = f"enterprise:cn.{ccode}.e{len(enterprises) + 1}"
            ind = industry()
            trade = SHARED_ENTITIES[ind].name
            name = (
                f"{short_name(home.name)}{trade}有限公司"
                if kind == "company"
                else f"{short_name(home.name)}{trade}专业合作社"
            )
            enterprises.append(case.entity(eid, "Enterprise", f"{name}{len(enterprises) + 1}", kind=kind))
            case.relate("LOCATED_IN", eid, vid[home.code])
            case.relate("IN_INDUSTRY", eid, ind)
            for v in pick_villages(home, _pareto_size(rng, 1, span, 1.5))[1:]:
                case.relate("SUPPORTS", eid, vid[v.code])
            if kind == "company" and alliances and rng.random() < 0.2:
                case.relate("HAS_MEMBER", rng.choice(alliances), eid, role="共建单位")

    # projects: held by one to three villages (or an alliance), led by a branch, with enterprises
    for n in range(1, _count(rng, RATES["project"] * len(county.villages)) + 1):
        home = rng.choice(county.villages)
        ind = industry()
        pid = case.entity(
            f"project:cn.{ccode}.x{n}",
            "Project",
            f"{short_name(home.name)}{SHARED_ENTITIES[ind].name}项目{n}",
            kind=rng.choice(PROJECT_KINDS),
        )
        case.relate("IN_INDUSTRY", pid, ind)
        if alliances and rng.random() < 0.2:
            case.relate("HAS_PROJECT", rng.choice(alliances), pid)
        for v in pick_villages(home, _pareto_size(rng, 1, 3, 2.0)):
            case.relate("HAS_PROJECT", vid[v.code], pid)
        case.relate("LEADS", branch[home.code], pid, role="牵头")
        for _ in range(_pareto_size(rng, 0, 3, 2.0) if enterprises else 0):
            case.relate("INVOLVES", pid, rng.choice(enterprises))

    return {
        "source": {
            "id": spec.source_id(ccode),
            "kind": SYNTHETIC,
            "title": f"合成数据:{county.name}(种子 {spec.seed})",
            "publisher": "ruralkg synth",
        },
        "entities": list(case.entities.values()),
        "relations": list(case.relations.values()),
    }


# -- two ways into the loader -------------------------------------------------------------------


def facts_of_case(raw: dict[str, Any]) -> SourceFacts:
    """The facts `loaders.facts.facts_of` makes of this case once parsed and validated, made
    without the YAML and pydantic round trip (the generator's output is valid by construction;
    tests check the two agree)."""
    facts = SourceFacts(model.SourceRecord.model_validate(raw["source"]), raw["source"]["id"])
    for e in raw["entities"]:
        props = {f: e.get(f) for f in _ENTITY_FIELDS[e["label"]]}
        facts.entities[e["id"]] = EntityFact(e["id"], e["label"], props, e["evidence"], ())
    for r in raw["relations"]:
        rel = RelationFact(
            r["type"], r["from"], r["to"], {k: r.get(k) for k in RELATION_PROPS}, r["evidence"]
        )
        facts.relations[rel.key] = rel
    return facts


def write_case(raw: dict[str, Any], directory: Path) -> Path:
    path = directory / f"{raw['source']['id'].split(':', 1)[1]}.yaml"
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(raw, handle, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
    return path


_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass
class SynthStats:
    counties: int = 0
    entities: int = 0
    relations: int = 0
    by_label: Counter[str] = field(default_factory=Counter)

    def add(self, raw: dict[str, Any]) -> None:
        self.counties += 1
        self.entities += len(raw["entities"])
        self.relations += len(raw["relations"])
        self.by_label.update(e["label"] for e in raw["entities"])
        self.by_label.update(r["type"] for r in raw["relations"])

    @property
    def rows(self) -> int:
        return self.entities + self.relations


def cases(spec: SynthSpec, selection: Selection) -> Iterator[dict[str, Any]]:
    for county in counties(selection):
        yield generate(spec, county)


# -- loading ------------------------------------------------------------------------------------


def load_divisions(driver: Driver, settings: Settings, selection: Selection, ids: dict[str, str]) -> int:
    """The official divisions under the selected counties (and their ancestors), through the
    gazetteer's own writer; `ids` maps codes of resolved curated places to their curated ids."""
    apply_schema(driver, settings)
    # into a graph without the official list, the divisions are created, not merged (as a
    # first `regions load`); over one that holds some, merged
    fresh = not has_gazetteer(driver, settings)
    writer = RegionWriter(driver, settings)
    writer.ensure_source()
    return sum(writer.write(division_rows(selection.divisions(), ids), fresh=fresh).values())


GROUP_ROWS = 20_000
"""Rows (entities and relations) of the counties synced together in one transaction."""
BULK_BATCH = 5_000
"""Rows per statement in a bulk load: the size the raw ceiling and the gazetteer use."""


def load_overlay(
    driver: Driver,
    settings: Settings,
    spec: SynthSpec,
    selection: Selection,
    *,
    via: str = "rows",
    directory: Path | None = None,
    on_county: Callable[[SynthStats], None] | None = None,
    group_rows: int = GROUP_ROWS,
    writer: SourceWriter | None = None,
) -> SynthStats:
    """Generate and sync the overlay county by county, one source per county, several counties
    per transaction (`group_rows`; 0: one each); only the counties of one group are in memory.

    via="rows" hands the generated facts straight to the loader's writer; via="files" writes
    each county's case file into `directory`, then parses and validates it like a curated file
    and syncs what the file says. Raises SourceLoadError naming the county's source the graph
    refused (the counties before it are loaded)."""
    if via not in ("rows", "files") or (via == "files" and directory is None):
        raise ValueError("via is 'rows', or 'files' with a directory")
    writer = writer or SourceWriter(driver, settings, batch_size=max(settings.batch_size, BULK_BATCH))
    stats = SynthStats()
    pending: dict[str, dict[str, Any]] = {}
    loaded: list[str] = []

    def facts() -> Iterator[SourceFacts]:
        for raw in cases(spec, selection):
            if via == "files":
                assert directory is not None
                f = facts_of(validate_cases([write_case(raw, directory)])[0])
            else:
                f = facts_of_case(raw)
            pending[f.source_id] = raw
            yield f

    try:
        for plan in sync_sources(writer, facts(), group_rows=group_rows):
            stats.add(pending.pop(plan.source_id))
            loaded.append(plan.source_id)
            if on_county:
                on_county(stats)
    except SourceFailed as exc:
        raise SourceLoadError(
            exc.source_id, exc.cause, [], loaded_ids=loaded, uncommitted=exc.uncommitted
        ) from exc.cause
    return stats
