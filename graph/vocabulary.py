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
    "practice:joint-village-party-building": SharedEntity(
        "Practice", "联村党建", "joint village party building", "model"
    ),
    "practice:doing-practical-things-for-the-masses": SharedEntity(
        "Practice", "我为群众办实事", "I do practical things for the masses", "campaign"
    ),
    "practice:national-all-for-one-tourism-standardization": SharedEntity(
        "Practice", "国家级全域旅游标准化", "National all-for-one tourism standardization", "campaign"
    ),
}

SHARED_LABELS: tuple[str, ...] = tuple(sorted({e.label for e in SHARED_ENTITIES.values()}))
"""The shared vocabulary's labels. One industry joins every village that has it (茶叶: 31,201
nodes two hops from one village at scale 0.1), so a neighbourhood reaches them but does not walk
on through them unless asked to."""
