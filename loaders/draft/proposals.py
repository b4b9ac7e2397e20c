"""What a draft proposes: entities, relations and figures, each with the sentence it rests on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loaders.draft.places import Candidate


@dataclass
class EntityProposal:
    key: str  # unique within the draft; becomes the id
    label: str
    name: str
    start: int  # the first mention, in Article.text
    end: int
    confidence: float
    attrs: dict[str, Any] = field(default_factory=dict)  # kind, division, role, size ...
    aliases: list[str] = field(default_factory=list)
    # places: the chosen division and the candidates
    code: str | None = None
    candidates: list[Candidate] = field(default_factory=list)
    absent: bool = False
    reason: str = ""
    id: str = ""


@dataclass
class RelationProposal:
    type: str
    start_key: str
    end_key: str
    at: int  # offset of the words that say it
    confidence: float
    role: str | None = None
    level: str | None = None
    status: str | None = None


@dataclass
class FigureProposal:
    subject_key: str
    measure: str
    unit: str
    qualifier: str
    at: int
    end: int
    confidence: float
    value: float | None = None
    min: float | None = None
    max: float | None = None
    year: int | None = None
    year_stated: bool = True
