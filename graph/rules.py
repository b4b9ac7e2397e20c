"""The model's rules that both the catalog (queries/) and the figures the loaders keep (loaders/)
apply, as Cypher fragments: which villages an alliance has, which villages a person or group
serves. One definition each, here in the shared model, so that a kept count and the entry that
reads it can never follow two rules (and loaders need not import the catalog: data flows from the
loaders into the graph, and the catalog reads it)."""

from __future__ import annotations

# The one rule for an alliance's member villages, applied by every entry that goes from an
# alliance to villages or back (alliance-tree, village-profile, enterprise-reach, shared-experts,
# multi-village-people, industry-clusters): the villages it HAS_MEMBER directly, and those its
# member branches are BASED_IN. Each path is written from both ends: the local server expands a
# pattern from its first node, so `(a:Alliance)-[...]->(v)` written from a village visits every
# alliance of the graph.
ALLIANCE_VILLAGE_PATHS: tuple[tuple[str, str], ...] = (
    ("-[:HAS_MEMBER]->", "<-[:HAS_MEMBER]-"),
    ("-[:HAS_MEMBER]->(:Branch)-[:BASED_IN]->", "<-[:BASED_IN]-(:Branch)<-[:HAS_MEMBER]-"),
)


def alliance_villages(var: str, out: str = "av") -> str:
    """The villages of an alliance (nodes), by the one rule; `out` names the village inside."""
    return " + ".join(f"[({var}){fwd}({out}:Village) | {out}]" for fwd, _ in ALLIANCE_VILLAGE_PATHS)


# A person or group serves a village directly, through a project of the village's they lead,
# support or advise (周宁's two cadres and 首章村's tea), or through an alliance the village belongs
# to that they are dispatched to, support or advise (天台's talent team and 寒山片区's four villages).
DIRECT_TIES = "DISPATCHED_TO|SUPPORTS|ADVISES"
PROJECT_TIES = "LEADS|SUPPORTS|ADVISES"
# The villages `p` serves by that rule (nodes, with repeats): shared-experts' villages.
SERVED_VILLAGES = f"""[(p)-[:{DIRECT_TIES}]->(v:Village) | v]
  + [(p)-[:{PROJECT_TIES}]->(:Project)<-[:HAS_PROJECT]-(v:Village) | v]
  + reduce(vs = [], a IN [(p)-[:{DIRECT_TIES}]->(a:Alliance) | a] | vs + {alliance_villages("a")})"""

# multi-village-people's rule: a person's or group's direct ties to villages (dispatched to,
# supports, advises, holds a post in), posts in a branch (its villages), and posts in, dispatches
# to, support or advice of an alliance (its villages). MULTI_VILLAGE_IDS gives the village ids of
# `h` by it (with repeats); each outgoing relationship of `h` is read once and ids alone are kept.
ALLIANCE_TIE_TYPES = ["HOLDS_POST", *DIRECT_TIES.split("|")]
MULTI_VILLAGE_IDS = f"""reduce(ids = [], x IN [(h)-[t]->(y) WHERE y:Village
    OR (y:Branch AND type(t) = 'HOLDS_POST') OR (y:Alliance AND type(t) IN {ALLIANCE_TIE_TYPES!r}) | y]
  | ids + CASE WHEN x:Village THEN [x.id]
    WHEN x:Branch THEN [(x)-[:BASED_IN]->(v:Village) | v.id]
    ELSE {" + ".join(f"[(x){fwd}(v:Village) | v.id]" for fwd, _ in ALLIANCE_VILLAGE_PATHS)} END)"""

# Both entries rank people and groups by how many distinct villages they serve, each by its own
# rule (SERVED_VILLAGES, MULTI_VILLAGE_IDS): counted on each request, a walk of every person (9 s
# and 17 s per call at scale 1). The loaders keep each person's two counts instead
# (loaders.person_villages: written in the transaction of the facts they count, checked against
# a recount by `ruralkg tally check`): a `(:PersonVillages {id: <the person's id>, multi, shared})`
# for each person or group with a count of 2 or more, with a sortable key for each such count
# (`multi_key`, `shared_key`, range-indexed: ascending keys are the count descending, then the
# id), and a `(:PeopleByVillages {id: '<rule> <count>', rule, villages, people})` per count of 2
# or more (how many people have it), for the totals.
PERSON_VILLAGES = "PersonVillages"
PEOPLE_BY_VILLAGES = "PeopleByVillages"
MULTI, SHARED = "multi", "shared"
RANK_DIGITS = 9


def rank_prefix(villages: int) -> str:
    """The digits that order a count descending: 10^RANK_DIGITS - villages, zero-padded."""
    return f"{10**RANK_DIGITS - villages:0{RANK_DIGITS}d}"


def rank_key(villages: int, person: str) -> str:
    """A person's sortable key: every key of a higher count sorts first, then ids in order (the
    prefix has a fixed width, so two keys of one count compare as their ids do)."""
    return f"{rank_prefix(villages)} {person}"
