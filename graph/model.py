"""The graph's vocabulary: labels, relationship types, and the pydantic models of curated facts.

Loaders validate case files against these models; queries take their allow-lists from here,
so a label or relationship type exists in exactly one place.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

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
    "Group": "group",
    "Industry": "industry",
    "Practice": "practice",
    "Quantity": "quantity",
}
LABELS: tuple[str, ...] = tuple(LABEL_PREFIXES)

ID_PATTERN = re.compile(r"^[a-z]+:[a-z0-9]+(?:[.\-][a-z0-9]+)*$")

_PLACES = ("Village", "Township", "County")
_ACTORS = ("Alliance", "Branch", "Organization", "Enterprise", *_PLACES)
# A named person, or an unnamed group of people the article counts or describes (53 农技专家).
_PEOPLE = ("Person", "Group")

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
        ("Alliance", "Branch", "Organization", "Enterprise", *_PEOPLE, "Village"),
        ("Project", "Enterprise"),
    ),
    "INVOLVES": (("Project",), ("Enterprise", "Organization")),
    # A Project end: 江口's 农技专家 go to the industrial dams; an Enterprise end: a cooperative.
    "DISPATCHED_TO": (_PEOPLE, ("Village", "Township", "County", "Enterprise", "Alliance", "Project")),
    "HOLDS_POST": (_PEOPLE, ("Alliance", "Branch", "Organization", "Enterprise", "Village")),
    "ADVISES": (_PEOPLE, ("Enterprise", "Village", "Project", "Branch", "Alliance")),
    "IN_INDUSTRY": ((*_ACTORS, "Project"), ("Industry",)),
    "USES_PRACTICE": (_ACTORS, ("Practice",)),
    # An Enterprise end: a union serving its member cooperatives.
    "SUPPORTS": (
        ("Organization", "Enterprise", *_PEOPLE),
        (*_PLACES, "Alliance", "Project", "Enterprise"),
    ),
    "FOUNDED": (
        ("Organization", "Person", "Enterprise", "Branch", "Alliance", "Township", "County"),
        ("Alliance", "Branch", "Project", "Enterprise", "Organization", "Practice"),
    ),
    "EVOLVED_FROM": (("Alliance", "Enterprise", "Organization"), ("Alliance", "Enterprise", "Organization")),
    # Village -> Project: 汾阳's joint villages lie within the 万宝山 scenic area (not a region).
    # Practice -> Practice: an umbrella practice and its parts (三个三's three teams).
    "PART_OF": (
        ("Organization", "Branch", "Project", "Village", "Practice"),
        ("Organization", "Project", "Township", "County", "City", "Province", "Practice"),
    ),
    # A local practice and the shared concept it is an instance of (天台's 片区党建联盟 is an
    # instance of 联村党建); the end is always a practice of docs/shared-vocabulary.md.
    "INSTANCE_OF": (("Practice",), ("Practice",)),
    # 引进: an actor brought an enterprise, industry or project in from outside (the alliance
    # introduced 华顶国际旅行社); the enterprise does not thereby support the alliance.
    "INTRODUCED": (
        (*_ACTORS, *_PEOPLE),
        ("Enterprise", "Industry", "Project", "Organization"),
    ),
    # A memorial site and the person it remembers (袁任远故居 -> 袁任远).
    "COMMEMORATES": (("Project",), ("Person",)),
    # 异地取经, 考察学习: went elsewhere to learn (陈建福 went to 泉州 to learn rabbit breeding).
    "LEARNED_FROM": (
        (*_ACTORS, *_PEOPLE),
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
    "驻村工作队",
    "驻村工作队员",
    "农技专家",
    "人才",
]
"""What a person or group is sent as (DISPATCHED_TO `role`, a dispatched Group's `role`)."""
DispatchLevel = Literal["province", "city", "county", "township"]

# Role values by relationship type: one documented list each (docs/data-format.md), so a query
# for 书记 finds every secretary. A qualifier of the post itself (拟任) is the relation's `status`.
ROLE_VOCABULARY: dict[str, tuple[str, ...]] = {
    "DISPATCHED_TO": DispatchRole.__args__,  # type: ignore[attr-defined]
    # posts in a party organisation, committee, enterprise or team
    "HOLDS_POST": (
        "书记",
        "第一书记",
        "副书记",
        "委员",
        "主任",
        "副主任",
        "理事长",
        "队长",
        "坝长",
        "负责人",
    ),
    # 牵头 to take the lead, 领办 to set up and run, 推进 to drive forward, 领导 to direct
    "LEADS": ("牵头", "领办", "推进", "领导"),
    "FOUNDED": ("组建", "创办", "制定"),
    "INTRODUCED": ("引进", "招商"),
    "SUPPORTS": ("结对帮扶", "规划", "技术指导", "课程开发", "服务", "销售", "资金"),
    "ADVISES": ("规划", "技术指导", "课程开发"),
    "HAS_MEMBER": ("龙头", "成员", "共建单位"),
    "INVOLVES": ("运营", "投资", "合作"),
}
PostStatus = Literal["拟任", "兼任"]
"""A post's qualifier: 拟任 proposed (拟选派其担任), 兼任 held alongside another."""

GroupRole = Literal[DispatchRole, "专家", "坝长", "村党支部书记", "致富带头人", "先烈后人", "艺人"]
"""What an unnamed group's members are: the dispatch roles, then the other groups articles name."""

# A Person's name that names a kind of person, not one person: the record is a Group.
GROUP_NAME = re.compile(r"(专家|艺人|后人|人才|干部|书记|坝长|带头人|员|们|队|团|组|等)$")

Evidence = Annotated[str, Field(min_length=2, max_length=200)]
"""A short quote (one phrase or sentence) in simplified Chinese, found in the source article."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


SYNTHETIC = "synthetic"
"""The kind of source `ruralkg synth` makes."""
FIXTURE = "fixture"
"""The kind of a made-up source shaped to catch bugs (tests/fixtures/): loaded only when named."""


SourceKind = Literal["article", "reference", "synthetic", "fixture"]


class SourceRecord(_Strict):
    id: str
    # synthetic: made by `ruralkg synth` for scale; searched like the official divisions, by
    # the start of a name only (loaders.writer). fixture: made up for the tests, its quotes from
    # a made-up article beside it; a load of every curated file leaves it out (loaders.load)
    kind: SourceKind = "article"
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
    """The message names `id`: an entity's check runs after the model (it needs the label), where
    pydantic gives the error no field."""
    if not ID_PATTERN.match(value):
        raise ValueError(
            f"`id` {value!r} must look like `{LABEL_PREFIXES[label]}:scope.slug` "
            "(lowercase ascii letters and digits, parts joined by '.' or '-')"
        )
    prefix = value.split(":", 1)[0]
    if prefix != LABEL_PREFIXES[label]:
        raise ValueError(f"a {label} `id` starts with `{LABEL_PREFIXES[label]}:`, not `{prefix}:`")
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
    """One named person; an unnamed group of people is a `Group`."""

    label: Literal["Person"]

    @model_validator(mode="after")
    def _one_person(self) -> Person:
        if self.group_size is not None or GROUP_NAME.search(self.name):
            raise ValueError(
                f"a Person is one named person, but {self.name!r} names a group of people: "
                "declare it as a Group (`group:` id, `role`, `size` where the article counts them)"
            )
        return self


class Group(_EntityBase):
    """Unnamed people the article counts or describes as one (17 第一书记, 53 农技专家, 数十 人才)."""

    label: Literal["Group"]
    role: GroupRole = Field(description="what the members are: 第一书记, 农技专家, 专家, 坝长 ...")
    size: int | None = Field(None, ge=2, description="how many, where the article counts them exactly")
    size_min: int | None = Field(None, ge=1, description="a range's lower end (1-2 is 1; 数十 is 20)")
    size_max: int | None = Field(None, ge=2, description="a range's upper end (1-2 is 2; 数十 is 90)")
    size_unit: str | None = Field(None, description="名 for people (the default), 支 or 个 for teams")

    @model_validator(mode="after")
    def _size(self) -> Group:
        if self.group_size is not None:
            raise ValueError(
                "a Group gives its count as `size` (or `size_min`, `size_max`), not `group_size`"
            )
        if (self.size_min is None) != (self.size_max is None):
            raise ValueError("a size range gives both `size_min` and `size_max`")
        if self.size_min is not None and self.size is not None:
            raise ValueError("give `size` or the range `size_min`, `size_max`, not both")
        if self.size_min is not None and self.size_max is not None and self.size_min >= self.size_max:
            raise ValueError(f"`size_min` ({self.size_min}) must be below `size_max` ({self.size_max})")
        return self


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
    | Group
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
    status: PostStatus | None = Field(None, description="a post's qualifier (HOLDS_POST only): 拟任, 兼任")
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
        if self.type == "DISPATCHED_TO" and self.role is None:
            raise ValueError(
                f"DISPATCHED_TO needs `role`, one of {', '.join(ROLE_VOCABULARY['DISPATCHED_TO'])}"
            )
        if self.level is not None and self.type != "DISPATCHED_TO":
            raise ValueError("`level` belongs only to DISPATCHED_TO")
        if self.status is not None and self.type != "HOLDS_POST":
            raise ValueError("`status` belongs only to HOLDS_POST")
        return self

    @field_validator("role")
    @classmethod
    def _known_role(cls, v: str | None, info: ValidationInfo) -> str | None:
        rel_type = info.data.get("type")
        if v is None or rel_type is None:
            return v
        allowed = ROLE_VOCABULARY.get(rel_type)
        if allowed is None:
            raise ValueError(f"{rel_type} takes no `role`")
        if v not in allowed:
            raise ValueError(f"{v!r} is not a {rel_type} role; expected one of {', '.join(allowed)}")
        return v

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.type, self.from_, self.to)

    def attributes(self) -> dict[str, object]:
        return {
            k: getattr(self, k)
            for k in ("role", "level", "status", "since", "note")
            if getattr(self, k) is not None
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
    year: int = Field(
        ge=1949, le=2100, description="the year the figure is for: the article's own, or its date's year"
    )
    year_stated: bool = Field(
        True, description="false when the article gives no year (目前, or nothing) and `year` is its date's"
    )
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
