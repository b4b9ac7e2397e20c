"""The shared vocabulary: entities any case may name, declared everywhere exactly as here.

docs/shared-vocabulary.md is the analysts' copy (a test keeps the two equal). Ids here may be
unscoped (`industry:tea`); every other entity's id is scoped to the region that owns it, so a
later case's own "1+N" never merges into an earlier one's.
"""

from __future__ import annotations

from typing import NamedTuple


class SharedEntity(NamedTuple):
    label: str
    name: str
    name_en: str
    kind: str | None = None
    definition: str | None = None
    """A practice concept's one-line definition, declared as its `description`."""


UNSCOPED_LABELS: frozenset[str] = frozenset({"Province"})
"""Labels whose id is the root of every scope (province:fujian), so it has no scope itself."""

SHARED_ENTITIES: dict[str, SharedEntity] = {
    "industry:rural-tourism": SharedEntity("Industry", "乡村旅游", "rural tourism"),
    "industry:red-tourism": SharedEntity("Industry", "红色旅游", "red tourism"),
    "industry:study-tourism": SharedEntity("Industry", "研学旅游", "study tourism"),
    "industry:tea": SharedEntity("Industry", "茶叶", "tea"),
    "industry:vegetables": SharedEntity("Industry", "蔬菜", "vegetables"),
    "industry:potato": SharedEntity("Industry", "马铃薯", "potato"),
    "industry:sweet-potato": SharedEntity("Industry", "红薯", "sweet potato"),
    "industry:edible-fungi": SharedEntity("Industry", "食用菌", "edible fungi"),
    "industry:rabbit-farming": SharedEntity("Industry", "养兔", "rabbit farming"),
    "industry:cold-water-fish": SharedEntity("Industry", "冷水鱼养殖", "cold-water fish farming"),
    "industry:chinese-herbs": SharedEntity("Industry", "中药材", "Chinese medicinal herbs"),
    "industry:forest-economy": SharedEntity("Industry", "林下经济", "under-forest economy"),
    "industry:agritainment": SharedEntity("Industry", "农家乐", "agritainment (farm stays and restaurants)"),
    "industry:homestay": SharedEntity("Industry", "民宿", "homestays"),
    "industry:specialty-products": SharedEntity(
        "Industry", "农特产品销售", "sale of local specialty products"
    ),
    "industry:e-commerce": SharedEntity("Industry", "电子商务", "e-commerce"),
    "industry:forestry": SharedEntity("Industry", "林业", "forestry"),
    "industry:agricultural-sightseeing": SharedEntity(
        "Industry", "农业观光旅游", "agricultural sightseeing tourism"
    ),
    "industry:cultural-experience-tourism": SharedEntity(
        "Industry", "文化体验旅游", "cultural experience tourism"
    ),
    "industry:wellness-tourism": SharedEntity("Industry", "康养旅游", "health and wellness tourism"),
    # Practice concepts: the ideas several counties practise under their own names. A local
    # practice is INSTANCE_OF one of them where its article supports it.
    "practice:joint-village-party-building": SharedEntity(
        "Practice",
        "联村党建",
        "joint village party building",
        "model",
        "相邻村跨越村界和党组织边界组成一个联合党组织,统一带动产业、设施与服务。",
    ),
    "practice:regular-meetings": SharedEntity(
        "Practice",
        "定期例会",
        "regular meeting cadence",
        "mechanism",
        "按固定周期(每周、每月、每季)召开例会、对比或总结,通报进展、协调共同事务。",
    ),
    "practice:branch-cooperative-farmers": SharedEntity(
        "Practice",
        "党支部+合作社+农户",
        "party branch + cooperative + farmers",
        "model",
        "党支部领办或带动合作社,合作社联结农户,共同发展产业、分享收益。",
    ),
    "practice:one-plus-n": SharedEntity(
        "Practice",
        "1+N",
        "one plus N",
        "model",
        "以一个核心(党组织、示范村或平台)带动若干个成员或项目的组织方式。",
    ),
    "practice:eliminating-weak-villages": SharedEntity(
        "Practice",
        "消除集体经济薄弱村",
        "eliminating villages with weak collective economies",
        "campaign",
        "通过抱团发展、项目和帮扶使集体经济收入低的村达到或超过标准(消薄)。",
    ),
    "practice:mentoring": SharedEntity(
        "Practice",
        "导师帮带",
        "mentoring",
        "mechanism",
        "由有经验的干部或导师结对带教年轻干部、后备力量,提升其能力。",
    ),
    "practice:doing-practical-things-for-the-masses": SharedEntity(
        "Practice", "我为群众办实事", "I do practical things for the masses", "campaign"
    ),
    "practice:national-all-for-one-tourism-standardization": SharedEntity(
        "Practice", "国家级全域旅游标准化", "National all-for-one tourism standardization", "campaign"
    ),
}

CONCEPTS: frozenset[str] = frozenset(i for i, e in SHARED_ENTITIES.items() if e.label == "Practice")
"""The practice concepts: the only ends an INSTANCE_OF may have."""

SHARED_LABELS: tuple[str, ...] = tuple(sorted({e.label for e in SHARED_ENTITIES.values()}))
"""The shared vocabulary's labels. One industry joins every village that has it (茶叶: 31,201
nodes two hops from one village at scale 0.1), so a neighbourhood reaches them but does not walk
on through them unless asked to."""
