"""The coverage map's points: China's provinces, cities and counties at their seats, each with
the coverage of the counties the graph holds.

The seats are cpca 0.5.5's division table (data/seats.csv, its resources/adcodes.csv unchanged,
MIT: data/LICENSE-cpca), kept here rather than depending on cpca: only that file was ever read,
the package has had no release since 2021 and would install pandas for it.

A county of the graph is found on the map by its official code when it has one (the national
divisions) and otherwise by its province's name and its own (the curated places carry no
code). Cities and provinces add up their counties, by code prefix.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from queries.regions import CoverageMap

SEATS = Path(__file__).parent / "data" / "seats.csv"


@dataclass(frozen=True)
class Seat:
    code: str  # 12 digits
    name: str
    lon: float
    lat: float

    @property
    def level(self) -> str:
        if self.code[2:] == "0" * 10:
            return "Province"
        if self.code[4:] == "0" * 8:
            return "City"
        return "County"


@lru_cache(maxsize=1)
def seats() -> tuple[Seat, ...]:
    """Every division in cpca's table that has a seat (3,218 of 3,511), by code."""
    with SEATS.open(encoding="utf-8", newline="") as f:
        rows = [
            Seat(r["adcode"], r["name"], float(r["longitude"]), float(r["latitude"]))
            for r in csv.DictReader(f)
            if r["longitude"] and r["latitude"]  # 293 市辖区 (a city's districts together) have none
        ]
    return tuple(sorted(rows, key=lambda s: s.code))


def points(coverage: CoverageMap) -> list[dict[str, Any]]:
    """Each seat with the coverage of the graph's counties in it (zeros where there is none)
    and, where the graph holds the county, its id."""
    table = seats()
    province_names = {s.code[:2]: s.name for s in table if s.level == "Province"}
    by_name = {(province_names.get(s.code[:2]), s.name): s for s in table if s.level == "County"}
    codes = {s.code for s in table}
    totals: dict[str, dict[str, Any]] = {s.code: {"alliance": 0, "dispatched": 0, "ids": []} for s in table}
    for item in coverage.items:
        c = item.county
        seat_code = c.code if c.code in codes else None
        if seat_code is None and (item.province, c.name) in by_name:
            seat_code = by_name[(item.province, c.name)].code
        if seat_code is None:
            continue
        # the county itself, its city and its province
        for code in {seat_code, seat_code[:4] + "0" * 8, seat_code[:2] + "0" * 10} & codes:
            totals[code]["alliance"] += item.villages_in_alliance
            totals[code]["dispatched"] += item.villages_with_dispatched
        totals[seat_code]["ids"].append(c.id)
    return [
        {
            "code": s.code,
            "name": s.name,
            "level": s.level,
            "lon": s.lon,
            "lat": s.lat,
            "villages_in_alliance": totals[s.code]["alliance"],
            "villages_with_dispatched": totals[s.code]["dispatched"],
            "ids": totals[s.code]["ids"],
        }
        for s in table
    ]
