"""The graph's vocabulary: labels, relationship types, and the pydantic models of curated facts.

Loaders validate case files against these models; queries take their allow-lists from here,
so a label or relationship type exists in exactly one place.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ENTITY_LABEL = "Entity"
"""Every node carries this label besides its own, so one constraint keeps ids unique graph-wide."""

# label -> id prefix. Ids read as `prefix:scope.slug`, e.g. village:fujian.zhouning.lidun.qinxi
LABEL_PREFIXES: dict[str, str] = {
    "Source": "source",
    "Province": "province",
    "City": "city",
    "County": "county",
    "Township": "township",
    "Village": "village",
    "Alliance": "alliance",
    "Branch": "branch",
    "Project": "project",
    "Enterprise": "enterprise",
    "Organization": "org",
    "Person": "person",
    "Industry": "industry",
    "Practice": "practice",
    "Quantity": "quantity",
}
LABELS: tuple[str, ...] = tuple(LABEL_PREFIXES)

ID_PATTERN = re.compile(r"^[a-z]+:[a-z0-9]+(?:[.\-][a-z0-9]+)*$")

_PLACES = ("Village", "Township", "County")
_ACTORS = ("Alliance", "Branch", "Organization", "Enterprise", *_PLACES)

# relationship type -> (allowed start labels, allowed end labels)
RELATIONSHIPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "LOCATED_IN": (
        (
            "Village",
            "Township",
            "County",
            "City",
            "Alliance",
            "Branch",
            "Project",
            "Enterprise",
            "Organization",
        ),
        ("Village", "Township", "County", "City", "Province"),
    ),
    "HAS_MEMBER": (
        ("Alliance", "Enterprise", "Organization"),
        ("Branch", "Village", "Enterprise", "Organization", "Alliance"),
    ),
    # A Project end: 江口's dam branches sit in the industrial dams (产业大坝), not the county.
    "BASED_IN": (("Branch",), ("Village", "Enterprise", "Organization", "Project", "Township", "County")),
    "HAS_PROJECT": (("Village", "Township", "County", "Alliance"), ("Project",)),
    # An Enterprise end: 汾阳's economic union is led by (由...领导) the 联村党总支.
    "LEADS": (
        ("Alliance", "Branch", "Organization", "Enterprise", "Person", "Village"),
        ("Project", "Enterprise"),
    ),
    "INVOLVES": (("Project",), ("Enterprise", "Organization")),
    "DISPATCHED_TO": (("Person",), ("Village", "Township", "County", "Enterprise", "Alliance")),
    "HOLDS_POST": (("Person",), ("Alliance", "Branch", "Organization", "Enterprise", "Village")),
    "ADVISES": (("Person",), ("Enterprise", "Village", "Project", "Branch", "Alliance")),
    "IN_INDUSTRY": ((*_ACTORS, "Project"), ("Industry",)),
    "USES_PRACTICE": (_ACTORS, ("Practice",)),
    "SUPPORTS": (("Organization", "Enterprise", "Person"), (*_PLACES, "Alliance", "Project")),
    "FOUNDED": (
        ("Organization", "Person", "Enterprise", "Branch", "Alliance", "Township", "County"),
        ("Alliance", "Branch", "Project", "Enterprise", "Organization", "Practice"),
    ),
    "EVOLVED_FROM": (("Alliance", "Enterprise", "Organization"), ("Alliance", "Enterprise", "Organization")),
    # Village -> Project: 汾阳's joint villages lie within the 万宝山 scenic area (not a region).
    "PART_OF": (
        ("Organization", "Branch", "Project", "Village"),
        ("Organization", "Project", "Township", "County", "City", "Province"),
    ),
    # 引进: an actor brought an enterprise, industry or project in from outside (the alliance
    # introduced 华顶国际旅行社); the enterprise does not thereby support the alliance.
    "INTRODUCED": (
        (*_ACTORS, "Person"),
        ("Enterprise", "Industry", "Project", "Organization"),
    ),
    # A memorial site and the person it remembers (袁任远故居 -> 袁任远).
    "COMMEMORATES": (("Project",), ("Person",)),
    # 异地取经, 考察学习: went elsewhere to learn (陈建福 went to 泉州 to learn rabbit breeding).
    "LEARNED_FROM": (
        (*_ACTORS, "Person"),
        ("Village", "Township", "County", "City", "Province", "Organization", "Enterprise"),
    ),
}
GENERATED_RELATIONSHIPS: dict[str, str] = {
    "MENTIONS": "Source -> any entity, carrying the evidence quote (written by the loader)",
    "HAS_QUANTITY": "entity -> Quantity (written by the loader from the quantity's subject)",
}
RELATIONSHIP_TYPES: tuple[str, ...] = tuple(RELATIONSHIPS) + tuple(GENERATED_RELATIONSHIPS)

DispatchRole = Literal[
    "第一书记",
    "科技特派员",
    "农村指导员",
    "乡村振兴指导员",
    "金融助理员",
    "驻村工作队员",
    "农技专家",
]
DispatchLevel = Literal["province", "city", "county", "township"]

Evidence = Annotated[str, Field(min_length=2, max_length=200)]
"""A short quote (one phrase or sentence) in simplified Chinese, found in the source article."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


SYNTHETIC = "synthetic"
"""The kind of source `ruralkg synth` makes."""
FIXTURE = "fixture"
"""The kind of a made-up source shaped to catch bugs (tests/fixtures/): loaded only when named."""


class SourceRecord(_Strict):
    id: str
    # synthetic: made by `ruralkg synth` for scale; searched like the official divisions, by
    # the start of a name only (loaders.writer). fixture: made up for the tests, its quotes from
    # a made-up article beside it; a load of every curated file leaves it out (loaders.load)
    kind: Literal["article", "reference", "synthetic", "fixture"] = "article"
    file: str | None = Field(None, description="the captured article in shared/sources/")
    title: str = Field(min_length=2)
    publisher: str = Field(min_length=2)
    date: dt.date | None = None
    author: str | None = None
    url: str | None = None
    script: Literal["simplified", "traditional"] = "simplified"

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _check_id(v, "Source")

    @model_validator(mode="after")
    def _article_has_file(self) -> SourceRecord:
        if self.kind in ("article", FIXTURE) and not self.file:
            raise ValueError(f"{self.kind!r} source needs `file`, the article it was read from")
        return self


def _check_id(value: str, label: str) -> str:
    if not ID_PATTERN.match(value):
        raise ValueError(
            f"id {value!r} must look like `{LABEL_PREFIXES[label]}:scope.slug` "
            "(lowercase ascii letters and digits, parts joined by '.' or '-')"
        )
    prefix = value.split(":", 1)[0]
    if prefix != LABEL_PREFIXES[label]:
        raise ValueError(f"a {label} id starts with `{LABEL_PREFIXES[label]}:`, not `{prefix}:`")
    return value


class _EntityBase(_Strict):
    id: str
    name: str = Field(min_length=1, description="canonical simplified Chinese name")
    aliases: tuple[str, ...] = Field((), description="other names: short forms, the source's own form")
    name_en: str | None = None
    description: str | None = Field(None, max_length=300)
    group_size: int | None = Field(
        None, ge=2, description="the node stands for a group of this many (21 dam branches as one node)"
    )
    evidence: Evidence

    @model_validator(mode="after")
    def _id_matches_label(self) -> _EntityBase:
        _check_id(self.id, self.label)  # type: ignore[attr-defined]
        return self

    def attributes(self) -> dict[str, object]:
        """Label-specific scalar properties, as stored on the node (None values left out)."""
        skip = {"id", "label", "name", "aliases", "evidence"}
        return {k: v for k, v in self.model_dump().items() if k not in skip and v is not None}


class Province(_EntityBase):
    label: Literal["Province"]


class City(_EntityBase):
    label: Literal["City"]


class County(_EntityBase):
    label: Literal["County"]
    division: Literal["县", "县级市", "区", "自治县"] | None = None


class Township(_EntityBase):
    label: Literal["Township"]
    division: Literal["乡", "镇", "民族乡", "街道"] | None = None


class Village(_EntityBase):
    label: Literal["Village"]
    division: Literal["行政村", "社区"] | None = None


class Alliance(_EntityBase):
    label: Literal["Alliance"]
    kind: str = Field(
        description="the source's own term: 片区党建联盟, 联村党组织, 联村党总支, 党建大联盟 ..."
    )


class Branch(_EntityBase):
    label: Literal["Branch"]
    kind: Literal["village", "organ", "industrial-dam", "cooperative", "joint", "enterprise", "other"]


class Project(_EntityBase):
    label: Literal["Project"]
    kind: Literal["industry", "tourism", "infrastructure", "service", "culture", "governance", "other"]


class Enterprise(_EntityBase):
    label: Literal["Enterprise"]
    kind: Literal["company", "cooperative", "cooperative-union", "collective", "other"]


class Organization(_EntityBase):
    label: Literal["Organization"]
    kind: Literal[
        "party-committee",
        "government",
        "department",
        "college",
        "association",
        "mass-organization",
        "work-team",
        "service-center",
        "other",
    ]


class Person(_EntityBase):
    label: Literal["Person"]


class Industry(_EntityBase):
    label: Literal["Industry"]


class Practice(_EntityBase):
    label: Literal["Practice"]
    kind: Literal["mechanism", "model", "campaign", "policy"]


Entity = Annotated[
    Province
    | City
    | County
    | Township
    | Village
    | Alliance
    | Branch
    | Project
    | Enterprise
    | Organization
    | Person
    | Industry
    | Practice,
    Field(discriminator="label"),
]


class Relation(_Strict):
    type: str
    from_: str = Field(alias="from")
    to: str
    evidence: Evidence
    role: str | None = Field(None, description="the part the start plays: 第一书记, 书记, 龙头, 牵头 ...")
    level: DispatchLevel | None = Field(None, description="who dispatched a person: province ... township")
    since: int | None = Field(None, ge=1949, le=2100, description="year the tie began")
    note: str | None = Field(None, max_length=200)

    model_config = ConfigDict(populate_by_name=True)

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v not in RELATIONSHIPS:
            raise ValueError(f"unknown relationship type {v!r}; expected one of {', '.join(RELATIONSHIPS)}")
        return v

    @model_validator(mode="after")
    def _dispatch_fields(self) -> Relation:
        if self.type == "DISPATCHED_TO":
            if self.role not in DispatchRole.__args__:  # type: ignore[attr-defined]
                raise ValueError(f"DISPATCHED_TO needs `role`, one of {', '.join(DispatchRole.__args__)}")  # type: ignore[attr-defined]
            if self.level is None:
                raise ValueError("DISPATCHED_TO needs `level`: province, city, county or township")
        elif self.level is not None:
            raise ValueError("`level` belongs only to DISPATCHED_TO")
        return self

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.type, self.from_, self.to)

    def attributes(self) -> dict[str, object]:
        return {
            k: getattr(self, k) for k in ("role", "level", "since", "note") if getattr(self, k) is not None
        }


class Quantity(_Strict):
    id: str
    subject: str = Field(description="id of the entity the number describes")
    measure: str = Field(
        min_length=2, description="what is measured, in Chinese: 游客接待量, 集体经济收入 ..."
    )
    value: float | None = Field(None, description="the number the article gives; absent for a range")
    min: float | None = Field(None, description="a range's lower end (1-2人 is 1; 数十次 is 20)")
    max: float | None = Field(None, description="a range's upper end (1-2人 is 2; 数十次 is 90)")
    unit: str = Field(
        description="base unit, never scaled: 元 (2000多万元 is 20000000 元), 人次, 亩, 个, 名, %"
    )
    year: int | None = Field(None, ge=1949, le=2100)
    qualifier: Literal["exact", "over", "about", "under", "range"] = Field(
        "exact",
        description="over for 余/多/以上, about for 约/近, under for 以下/不到, range for 1-2 or 数十",
    )
    evidence: Evidence

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _check_id(v, "Quantity")

    @model_validator(mode="after")
    def _value_or_range(self) -> Quantity:
        if self.qualifier == "range":
            if self.value is not None or self.min is None or self.max is None:
                raise ValueError("a range gives `min` and `max`, not `value`")
            if self.min >= self.max:
                raise ValueError(f"a range's `min` ({self.min}) must be below its `max` ({self.max})")
        elif self.value is None or self.min is not None or self.max is not None:
            raise ValueError(f"a {self.qualifier!r} quantity gives `value`; `min` and `max` are a range's")
        return self
