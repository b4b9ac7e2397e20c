"""Constraints and indexes: the same named, idempotent statements on Neo4j 5 and the local server."""

from __future__ import annotations

import re

from neo4j import Driver

from graph.model import ENTITY_LABEL, LABELS
from graph.rules import MULTI, PEOPLE_BY_VILLAGES, PERSON_VILLAGES, SHARED
from graph.settings import Settings


def _snake(label: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", label).lower()


def schema_statements() -> list[str]:
    """A uniqueness constraint on `id` and an index on `name` for every label.

    `Entity`, which every node carries besides its own label, makes ids unique graph-wide
    and gives lookups by id one index whatever the label.
    """
    statements = []
    for label in (ENTITY_LABEL, *LABELS):
        name = _snake(label)
        statements.append(
            f"CREATE CONSTRAINT {name}_id_unique IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE"
        )
        statements.append(f"CREATE INDEX {name}_name IF NOT EXISTS FOR (n:{label}) ON (n.name)")
    return statements + GAZETTEER_STATEMENTS + TALLY_STATEMENTS + PERSON_VILLAGES_STATEMENTS


# The official divisions (loaders.regions): the 12-digit code is unique graph-wide, and search
# finds divisions by prefix of these keys through range indexes both servers use the same way;
# `search_scope` ('curated', set by the case-file loader) picks the few nodes search scans
# with CONTAINS out of the country's.
# A search too broad to rank every match lists the provinces, cities and counties it matches,
# through indexes of their own (queries.explore).
BROAD_LABELS = ("Province", "City", "County")
SEARCH_KEYS = ("key_name", "key_pinyin", "key_initials", "code")
GAZETTEER_STATEMENTS = [
    f"CREATE CONSTRAINT entity_code_unique IF NOT EXISTS FOR (n:{ENTITY_LABEL}) REQUIRE n.code IS UNIQUE",
    *(
        f"CREATE INDEX entity_{key} IF NOT EXISTS FOR (n:{ENTITY_LABEL}) ON (n.{key})"
        for key in ("key_name", "key_pinyin", "key_initials", "search_scope")
    ),
    *(
        f"CREATE INDEX {_snake(label)}_{key} IF NOT EXISTS FOR (n:{label}) ON (n.{key})"
        for label in BROAD_LABELS
        for key in SEARCH_KEYS
    ),
]

# The figures kept per place and per relationship type (loaders.tally), per industry and
# (industry, province or alliance) pair (loaders.industry_tally), and per person and per count of
# villages (loaders.person_villages): one node each, by id.
TALLY_LABELS = ("Tally", "TypeTally", "IndustryTally", "IndustryShare", PERSON_VILLAGES, PEOPLE_BY_VILLAGES)
TALLY_STATEMENTS = [
    f"CREATE CONSTRAINT {_snake(label)}_id_unique IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE"
    for label in TALLY_LABELS
]

# The ranking keys of the villages counted per person, which shared-experts and
# multi-village-people read in order.
PERSON_VILLAGES_STATEMENTS = [
    f"CREATE INDEX person_villages_{key} IF NOT EXISTS FOR (n:{PERSON_VILLAGES}) ON (n.{key})"
    for key in (f"{MULTI}_key", f"{SHARED}_key")
]


def apply_schema(driver: Driver, settings: Settings) -> int:
    """Apply every statement (each its own transaction, as schema changes must be); return the count."""
    statements = schema_statements()
    for statement in statements:
        driver.execute_query(statement, database_=settings.neo4j_database)
    return len(statements)
