"""One draft: read the article, find its places, names, figures and relations, give each an id.

`draft_article` returns the draft as the mapping `loaders.draft.write` stores: the case file's
sections, each record with its `confidence` and `sentence` (the index of the sentence its
evidence comes from), places with their 12-digit `code` or their `candidates`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pypinyin import lazy_pinyin

from graph import model
from graph.divisions import full_code, short_code
from graph.text import to_simplified
from graph.vocabulary import SHARED_ENTITIES
from loaders.draft.entities import find_entities
from loaders.draft.figures import find_figures
from loaders.draft.places import PlaceProposal, find_places, slug
from loaders.draft.proposals import EntityProposal, FigureProposal, RelationProposal
from loaders.draft.relations import Mention, figure_subjects, find_relations
from loaders.draft.segment import Segmenter
from loaders.draft.text import Article, quote, quote_is_verbatim
from loaders.gazetteer import Division
from loaders.regions import division_kind

DRAFT_STATUS = "draft"
_PLACE_LABELS = ("Province", "City", "County", "Township", "Village")
_PUBLISHER = re.compile(r"来源[::]\s*([^\s|<>]{2,20})")
_AUTHOR = re.compile(r"作者[::]\s*([^\s|<>]{2,10})")
_URL = re.compile(r"(?:原文链接|原文地址|原文网址)[::]\s*(https?://[^\s<>\"]{4,300})")
_NO_AUTHOR = ("佚名", "未知", "匿名")
_DATE = re.compile(r"((?:19|20)\d\d)[-年./](\d{1,2})[-月./](\d{1,2})")


@dataclass
class SourceInfo:
    title: str | None = None
    publisher: str | None = None
    date: dt.date | None = None
    url: str | None = None


@dataclass
class Draft:
    article: Article
    file: str
    source: dict[str, Any]
    entities: list[EntityProposal] = field(default_factory=list)
    relations: list[RelationProposal] = field(default_factory=list)
    figures: list[FigureProposal] = field(default_factory=list)


def _syllables(text: str) -> list[str]:
    out: list[str] = []
    for p in lazy_pinyin(text, v_to_u=False):
        p = re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-")
        if p:
            out.append(p)
    return out


def _slug(text: str, most: int = 6) -> str:
    return "-".join(_syllables(text)[:most]) or "x"


def _person_slug(name: str) -> str:
    syl = _syllables(name)
    return f"{syl[0]}-{''.join(syl[1:])}" if len(syl) > 1 else "".join(syl)


def _place_entities(places: list[PlaceProposal], names: dict[str, str]) -> list[EntityProposal]:
    """One entity per division (安吉 and 安吉县 are one), absent villages on their own."""
    by_code: dict[str, list[PlaceProposal]] = {}
    out: list[EntityProposal] = []
    for p in places:
        if p.chosen is not None:
            by_code.setdefault(p.chosen.code, []).append(p)
    for code, group in by_code.items():
        first = min(group, key=lambda p: p.start)
        chosen = first.chosen
        assert chosen is not None
        d = Division(code, chosen.name)
        name = first.name
        forms = sorted({p.form for p in group} - {name})
        attrs: dict[str, Any] = {}
        if (kind := division_kind(d)) is not None:
            attrs["division"] = kind
        e = EntityProposal(
            "",
            d.label,
            name,
            first.start,
            first.start + len(first.form),
            max(p.confidence for p in group),
            attrs,
            forms,
        )
        e.code = full_code(code)
        e.candidates = list(first.candidates)
        e.id = place_id(code, names)
        out.append(e)
    for p in places:
        if p.chosen is None:
            e = EntityProposal("", p.label, p.name, p.start, p.start + len(p.form), p.confidence)
            e.candidates = list(p.candidates)
            e.absent, e.reason = p.absent, p.reason
            if p.candidates:
                # the narrowest division every candidate lies in (an absent village: its township)
                codes = [c.code for c in p.candidates]
                common = codes[0][:9] if p.absent else codes[0]
                while common and not all(c.startswith(common) for c in codes):
                    common = (
                        common[: max(n for n in (2, 4, 6, 9) if n < len(common))] if len(common) > 2 else ""
                    )
                if common:
                    e.attrs["scope"] = common
            out.append(e)
    return out


def place_id(code: str, names: dict[str, str]) -> str:
    """The curated id rule: prefix:<province>.<county>.<township>.<village>, no city."""
    parts = [code[:2]] + [code[:n] for n in (6, 9, 12) if len(code) >= n]
    if len(code) == 4:
        parts = [code[:2], code]
    slugs = [slug(names.get(c, c), village=len(c) == 12) for c in parts]
    label = Division(code, "").label
    return f"{model.LABEL_PREFIXES[label]}:{'.'.join(slugs)}"


_FAMILIES = (("Alliance", "Organization", "Branch"), ("Enterprise",), ("Project",), ("Practice",))
_LEVEL_WORDS = {"镇": "Township", "乡": "Township", "县": "County", "市": "County"}


def _short_forms(
    entities: list[EntityProposal], places: list[EntityProposal], home: EntityProposal | None
) -> list[EntityProposal]:
    """A short name the article uses for a longer one becomes its alias: 联村党委 for
    甲—乙—丙联村党委, 基地 for 基地项目; 镇党委 is the committee of the article's township."""
    out: list[EntityProposal] = []
    for e in sorted(entities, key=lambda e: -len(e.name)):
        family = next((f for f in _FAMILIES if e.label in f), (e.label,))
        longer = [
            o
            for o in out
            if o.label in family
            and len(e.name) >= 3
            and (o.name.endswith(e.name) or o.name == e.name + "项目")
        ]
        if e.name.endswith("项目") and not longer:
            longer = [o for o in out if o.label == e.label and o.name == e.name[:-2]]
        if longer:
            keep = longer[0]
            keep.aliases = sorted({*keep.aliases, e.name, *e.aliases} - {keep.name})
            keep.confidence = max(keep.confidence, e.confidence)
            keep.start = min(keep.start, e.start)
            continue
        level = _LEVEL_WORDS.get(e.name[:1])
        owner = next((p for p in places if p.label == level), None) if level and len(e.name) <= 4 else None
        if owner is not None and e.label == "Organization" and home is not None:
            owner = home if home.label == level else owner
            e.aliases = sorted({*e.aliases, e.name})
            e.name = owner.name + e.name[1:]
        out.append(e)
    return sorted(out, key=lambda e: e.start)


def _merge(entities: Iterable[EntityProposal]) -> list[EntityProposal]:
    """One proposal per label and name: the first mention, the best confidence, all aliases."""
    merged: dict[tuple[str, str], EntityProposal] = {}
    for e in sorted(entities, key=lambda e: e.start):
        key = (e.label, e.name)
        if key not in merged:
            merged[key] = e
            continue
        kept = merged[key]
        kept.confidence = max(kept.confidence, e.confidence)
        kept.aliases = sorted(set(kept.aliases) | set(e.aliases))
        for k, v in e.attrs.items():
            kept.attrs.setdefault(k, v)
        if e.id and not kept.id:
            kept.id = e.id
    return list(merged.values())


def _mentions(article: Article, entities: list[EntityProposal]) -> list[Mention]:
    """Every place in the article where an entity's name or alias stands, longest names first
    so a short name inside a longer one (天荒坪镇 in 天荒坪镇党委) is the longer one's."""
    spans: list[Mention] = []
    text = article.text
    forms = sorted(
        ((f, e) for e in entities for f in {e.name, *e.aliases} if len(f) >= 2), key=lambda t: -len(t[0])
    )
    taken = [False] * (len(text) + 1)
    for form, e in forms:
        pos = text.find(form)
        while pos >= 0:
            end = pos + len(form)
            if not any(taken[pos:end]):
                spans.append(Mention(pos, end, e))
                for i in range(pos, end):
                    taken[i] = True
            pos = text.find(form, pos + 1)
    # a name found only inside a longer one still has its own first mention
    seen = {m.entity.key for m in spans}
    spans += [Mention(e.start, e.end, e) for e in entities if e.key not in seen]
    return sorted(spans, key=lambda m: m.start)


def _home(entities: list[EntityProposal], mentions: list[Mention]) -> EntityProposal | None:
    """The place the article is about: the township, else county, it names most."""
    counts = Counter(m.entity.key for m in mentions)
    best: dict[str, EntityProposal] = {}
    for label in ("Township", "County", "City", "Province"):
        ranked = [e for e in entities if e.label == label and e.code]
        if ranked:
            best[label] = max(ranked, key=lambda e: (counts[e.key], -e.start))
    township, county = best.get("Township"), best.get("County")
    # an article about one township names it at least as often as its county
    if township and (county is None or counts[township.key] >= counts[county.key]):
        return township
    return county or township or best.get("City") or best.get("Province")


def _scope(e: EntityProposal, home: EntityProposal | None, places: list[EntityProposal]) -> str:
    """The region path that owns a name: the place its name starts with, else the article's."""
    owner = None
    for p in places:
        named = p.code and p.key != e.key and any(e.name.startswith(f) for f in {p.name, *p.aliases})
        if named and (owner is None or len(p.id) > len(owner.id)):
            owner = p
    owner = owner or home
    if owner is None:
        return "cn.unplaced"
    scope = owner.id.split(":", 1)[1]
    if owner.label == "City":  # city ids are city:<province>.<city>; others skip the city
        return scope
    return scope


def _assign_ids(entities: list[EntityProposal], home: EntityProposal | None) -> None:
    places = [e for e in entities if e.code]
    used: set[str] = {e.id for e in entities if e.id}
    for i, e in enumerate(entities):
        e.key = e.key or f"e{i}"
    for e in entities:
        if e.id:
            continue
        prefix = model.LABEL_PREFIXES.get(e.label, e.label.lower())
        scope = _scope(e, home, places)
        if e.label in ("Village", "Township") and not e.code:
            scope_code = str(e.attrs.get("scope", "-"))
            parent = next((p for p in places if p.code and short_code(p.code) == scope_code), None)
            scope = parent.id.split(":", 1)[1] if parent else scope
            ident = f"{prefix}:{scope}.{slug(e.name, village=e.label == 'Village')}"
        elif e.label == "Person":
            ident = f"{prefix}:{scope}.{_person_slug(e.name)}"
        else:
            own = e.name
            for p in places:
                for f in sorted({p.name, *p.aliases}, key=len, reverse=True):
                    if own.startswith(f) and len(own) > len(f) + 1:
                        own = own[len(f) :]
                        break
            ident = f"{prefix}:{scope}.{_slug(own)}"
        base, n = ident, 2
        while ident in used:
            ident, n = f"{base}-{n}", n + 1
        used.add(ident)
        e.id = ident


def _source(article: Article, file: str, info: SourceInfo, home: EntityProposal | None) -> dict[str, Any]:
    text = article.text
    date = info.date
    title = info.title or _title(article) or file
    # the date printed with the headline, not the site's own (a page header's)
    after_title = text[text.find(title) :] if title in text else text
    if date is None and (m := _DATE.search(after_title)):
        try:
            date = dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            date = None
    publisher = info.publisher or ((m[1] if (m := _PUBLISHER.search(text)) else None) or "未注明")
    author = m[1] if (m := _AUTHOR.search(text)) and m[1] not in _NO_AUTHOR else None
    place = home.id.rsplit(".", 1)[-1] if home else "article"
    return {
        "id": f"source:{date.isoformat() if date else 'undated'}.{place}",
        "kind": "article",
        "file": file,
        "title": title[:200],
        "publisher": publisher,
        "date": date.isoformat() if date else None,
        "author": author,
        "url": info.url or (m[1] if (m := _URL.search(text)) else None),
        "script": "traditional" if _is_traditional(article) else "simplified",
    }


def _title(article: Article) -> str | None:
    """The headline: the line of words just above the first line giving the date or the
    source (来源), skipping page furniture (links, markup, site names with | or _)."""
    lines = article.text.split("\n")
    # the headline and its dateline come before the body's first paragraph
    body = next((i for i, line in enumerate(lines) if len(line.strip()) > 100), len(lines))
    for i, line in enumerate(lines[:body]):
        # a dateline is short (时间 作者 来源); a date inside a paragraph is no dateline
        if (_DATE.search(line) or "来源" in line) and len(line.strip()) <= 100 and "http" not in line:
            for above in reversed(lines[max(0, i - 3) : i]):
                text = above.strip()
                if _headline(text):
                    return text
    return next((line.strip() for line in lines[:body] if _headline(line.strip())), None)


def _headline(text: str) -> bool:
    """A line that can be a headline: words, short, no sentence end, no page furniture."""
    return (
        len(re.findall(r"[\u4e00-\u9fff]", text)) >= 6
        and len(text) <= 60
        and not re.search(r"[<>|_。]", text)
    )


def _is_traditional(article: Article) -> bool:
    """Whether the page was in traditional script: more than one character in fifty changes
    when simplified."""
    raw = article.raw
    return sum(a != b for a, b in zip(raw, to_simplified(raw), strict=False)) > len(raw) // 50


def draft_article(path: Path, info: SourceInfo | None = None, segmenter: Segmenter | None = None) -> Draft:
    article = Article.read(path)
    segmenter = segmenter or Segmenter()
    place_props = find_places(article, segmenter)
    from loaders.draft.places import PlaceFinder  # noqa: F401  (the names table below)

    names = _division_names(place_props)
    entities = _place_entities(place_props, names)
    place_forms = {f for e in entities for f in (e.name, *e.aliases)}
    others = [e for e in find_entities(article, segmenter) if e.name not in place_forms]
    others = [e for e in others if not (e.label == "Person" and e.name[-1] in "县市镇乡村区省")]
    for i, e in enumerate(entities):
        e.key = f"p{i}"
    home = _home(entities, _mentions(article, entities))
    entities += _short_forms(_merge(others), list(entities), home)
    for i, e in enumerate(entities):
        e.key = f"e{i}"
    mentions = _mentions(article, entities)
    _assign_ids(entities, home)
    relations = find_relations(article, entities, mentions, home)
    figures = list(figure_subjects(find_figures(article), mentions, home))
    source = _source(article, path.name, info or SourceInfo(), home)
    return Draft(article, path.name, source, entities, relations, figures)


def _division_names(places: list[PlaceProposal]) -> dict[str, str]:
    """Official names of the chosen divisions and their ancestors, from the candidates' paths."""
    names: dict[str, str] = {}
    for p in places:
        for c in p.candidates:
            parts = c.path.split("/")
            code = c.code
            codes = [code[:n] for n in (2, 4, 6, 9, 12) if len(code) >= n]
            for cd, nm in zip(codes, parts, strict=False):
                names.setdefault(cd, nm)
    return names


# -- the draft as a mapping -------------------------------------------------------------------------


def _evidence(article: Article, at: int, end: int | None = None) -> tuple[str, int]:
    s = article.sentence_at(at)
    if s is None:
        return "", -1
    local = at - s.start
    local_end = (end - s.start) if end is not None else local + 1
    return quote(s.text, local, local_end), s.index


_DECLARED_FACTS = ("name", "name_en", "division", "kind", "description")


def known_places(cases_dir: Path) -> dict[str, dict[str, Any]]:
    """The places the curated files already declare, by id: a draft that names one declares
    it the same way (the loader refuses two declarations of one id that differ)."""
    known: dict[str, dict[str, Any]] = {}
    for path in sorted(cases_dir.rglob("*.yaml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        except (OSError, yaml.YAMLError):
            continue  # `ruralkg check` reports it; a draft only borrows declarations
        for e in (data or {}).get("entities") or []:
            if isinstance(e, dict) and e.get("label") in _PLACE_LABELS and isinstance(e.get("id"), str):
                known.setdefault(e["id"], e)
    return known


def draft_mapping(d: Draft, known: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The draft file's content: the case file sections with the draft's own fields; places
    the curated files declare take their declaration (`known`, by id)."""
    a = d.article
    known = known or {}
    by_key = {e.key: e for e in d.entities}
    entities: list[dict[str, Any]] = []
    for e in d.entities:
        evidence, sentence = _evidence(a, e.start, e.end)
        if not evidence or not quote_is_verbatim(evidence, a.text):
            continue
        rec: dict[str, Any] = {"id": e.id, "label": e.label, "name": e.name}
        shared = SHARED_ENTITIES.get(e.id)
        if shared is not None:
            rec.update({"name": shared.name, "name_en": shared.name_en})
            if shared.kind:
                rec["kind"] = shared.kind
            if shared.definition:
                rec["description"] = shared.definition
        else:
            aliases = [x for x in e.aliases if x != e.name]
            for k, v in e.attrs.items():
                if k != "scope" and not (e.label == "Person" and k == "role") and v is not None:
                    rec[k] = v
            curated = known.get(e.id)
            if curated is not None and curated.get("label") == e.label:
                for k in _DECLARED_FACTS:
                    rec.pop(k, None)
                    if curated.get(k) is not None:
                        rec[k] = curated[k]
                if e.name != rec["name"]:
                    aliases = [e.name, *aliases]
                rec = {"id": rec["id"], "label": rec["label"], "name": rec["name"]} | {
                    k: v for k, v in rec.items() if k not in ("id", "label", "name")
                }
            aliases = [x for x in dict.fromkeys(aliases) if x != rec["name"]]
            if aliases:
                rec["aliases"] = aliases
        rec["evidence"] = evidence
        rec["confidence"] = round(e.confidence, 2)
        rec["sentence"] = sentence
        if e.label in ("Province", "City", "County", "Township", "Village"):
            rec["code"] = e.code
            if e.candidates and (e.code is None or len(e.candidates) > 1):
                rec["candidates"] = [
                    {"code": full_code(c.code), "name": c.name, "path": c.path} for c in e.candidates
                ]
            if e.absent:
                rec["absent"] = True
            if e.reason:
                rec["reason"] = e.reason
        if e.label == "Person" and e.attrs.get("role"):
            rec["role"] = e.attrs["role"]
        entities.append(rec)
    declared = {r["id"] for r in entities}
    relations: list[dict[str, Any]] = []
    for r in d.relations:
        start, end = by_key[r.start_key], by_key[r.end_key]
        if start.id not in declared or end.id not in declared:
            continue
        evidence, sentence = _evidence(a, r.at)
        if not evidence or not quote_is_verbatim(evidence, a.text):
            continue
        rec = {"type": r.type, "from": start.id, "to": end.id}
        for k in ("role", "level", "status"):
            if getattr(r, k) is not None:
                rec[k] = getattr(r, k)
        rec.update({"evidence": evidence, "confidence": round(r.confidence, 2), "sentence": sentence})
        relations.append(rec)
    quantities: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    for f in d.figures:
        subject = by_key[f.subject_key]
        if subject.id not in declared:
            continue
        evidence, sentence = _evidence(a, f.at, f.end)
        if not evidence or not quote_is_verbatim(evidence, a.text):
            continue
        scope = subject.id.split(":", 1)[1]
        base = f"quantity:{scope}.{_slug(f.measure, 4)}"
        counts[base] += 1
        ident = base if counts[base] == 1 else f"{base}-{counts[base]}"
        rec = {"id": ident, "subject": subject.id, "measure": f.measure}
        if f.qualifier == "range":
            rec.update({"min": _num(f.min), "max": _num(f.max)})
        else:
            rec["value"] = _num(f.value)
        rec.update({"unit": f.unit, "year": f.year or _year(d), "qualifier": f.qualifier})
        if f.year is None and "year_stated" in getattr(model.Quantity, "model_fields", {}):
            rec["year_stated"] = False
        elif f.year is None:
            rec["year"] = None
        rec.update({"evidence": evidence, "confidence": round(f.confidence, 2), "sentence": sentence})
        quantities.append(rec)
    return {
        "status": DRAFT_STATUS,
        "source": d.source,
        # the article as drafted from, sentence by sentence (`sentence` indexes it): the
        # review page shows it without reading the article's file
        "sentences": [s.text for s in a.sentences],
        "entities": entities,
        "relations": relations,
        "quantities": quantities,
    }


def _year(d: Draft) -> int | None:
    date = d.source.get("date")
    return int(str(date)[:4]) if date else None


def _num(v: float | None) -> float | int | None:
    if v is None:
        return None
    return int(v) if float(v).is_integer() else v
