"""What the province's documents share: who may have one and over which units, the approved checklists
their figures come from (the sources each document lists), and who issues them.

A document covers the caller's scope: the provincial admin gets the province's version; a district
reviewer gets their district's (the district and its communes), issued by the district. Officials and
viewers get none (`forbidden`). Only APPROVED checklists give figures: what a unit typed but no reviewer
approved is not counted anywhere in a document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sync.models import Answer, Checklist
from sync.periods import VN
from sync.rows import loads
from sync.vocabulary import DECIDERS

from ..catalogue import DOCUMENT_ISSUERS, period_label
from ..errors import problem
from ..models import Template, Unit, User
from .tree import subtree_ids
from .units import parents_of_same_names

DOCUMENT_ROLES = DECIDERS  # the province's admin (whole province), a district's reviewer (its subtree)


@dataclass(frozen=True)
class Issuer:
    """The header of a Vietnamese administrative document: governing body over issuing body, the
    "Số: …/TB-…" code, the place of the date line and the signer's title."""

    governing: str
    issuing: str  # in capitals, as the header prints it
    name: str  # as a sentence names it: "Sở Khoa học và Công nghệ"
    code: str
    place: str  # "Kon Tum" in "Kon Tum, ngày … tháng … năm …"
    area: str  # what the document covers, in a sentence: "tỉnh Kon Tum", "huyện Ia H'Drai"
    signer: tuple[str, ...]


@dataclass(frozen=True)
class Source:
    """One approved checklist a document's figures come from."""

    unit_id: int
    unit_name: str
    template_title: str
    template_version: int
    period: str
    checklist_id: str
    approved_on: date | None

    @property
    def period_label(self) -> str:
        return period_label(self.period)

    @property
    def link(self) -> str:
        return f"/checklists/{self.checklist_id}"


@dataclass
class Approved:
    """A unit's approved checklist of one template and period, with its answers (item key -> value)."""

    source: Source
    answers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    root: Unit
    units: list[Unit]  # the units a document reports on, tree order
    issuer: Issuer
    names: dict[int, str]  # unit id -> the name a document prints: the district added to a shared name


def require_document_reader(actor: User) -> None:
    if actor.role not in DOCUMENT_ROLES:
        raise problem("forbidden")


def parse_month(raw: str | None) -> str:
    """ "2026-11" as given, or `document_month_invalid`."""
    raw = (raw or "").strip()
    m = re.fullmatch(r"(\d{4})-(\d{2})", raw)
    if not m or not 2000 <= int(m[1]) <= 2100 or not 1 <= int(m[2]) <= 12:
        raise problem("document_month_invalid", field="month")
    return raw


def parse_year(raw: str | None) -> str:
    raw = (raw or "").strip()
    if not re.fullmatch(r"\d{4}", raw) or not 2000 <= int(raw) <= 2100:
        raise problem("document_year_invalid", field="year")
    return raw


async def _issuer(root: Unit) -> Issuer:
    chain = [root]
    while chain[-1].parent_id is not None:  # type: ignore[attr-defined]
        chain.append(await Unit.get(id=chain[-1].parent_id))  # type: ignore[attr-defined]
    province = chain[-1]
    parent = chain[1] if len(chain) > 1 else root
    governing, issuing, name, code, signer = DOCUMENT_ISSUERS.get(root.level, DOCUMENT_ISSUERS[1])
    names = {"NAME": root.source_name.upper(), "PARENT": parent.source_name.upper(), "Name": root.name}
    # The place of the date line is where the issuing body sits: the province, or the district itself.
    area = re.sub(r"^(UBND|Ủy ban nhân dân)\s+", "", (province if root.level == 0 else root).name)
    area = area[:1].lower() + area[1:]
    place = re.sub(r"^(tỉnh|thành phố|huyện|thị xã|quận)\s+", "", area)
    return Issuer(
        governing.format(**names),
        issuing.format(**names),
        name.format(**names),
        code,
        place,
        area,
        tuple(signer.split("\n")),
    )


async def scope_of(actor: User) -> Scope:
    """The units a document of `actor` reports on: every active unit of their subtree but the province
    itself (it reports to no one); a district's version includes the district."""
    require_document_reader(actor)
    root = await Unit.get(id=actor.unit_id)  # type: ignore[attr-defined]
    ids = await subtree_ids(root.id)
    units = list(await Unit.filter(id__in=ids, active=True, level__gt=0).order_by("level", "annex_no", "id"))
    parents = await parents_of_same_names(units)  # three "Xã Đăk Long": the district tells them apart
    names = {u.id: f"{u.name} ({parents[u.id]})" if u.id in parents else u.name for u in units}
    return Scope(root, units, await _issuer(root), names)


def _vn_day(ms: int | None) -> date | None:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(VN).date() if ms else None


async def approved_of(scope: Scope, template_code: str, period: str) -> dict[int, Approved]:
    """Each unit's APPROVED checklist of `template_code` (any version) for `period`, with its answers."""
    names = scope.names
    templates = {t.id: t for t in await Template.filter(code=template_code)}
    if not names or not templates:
        return {}
    rows = await Checklist.filter(
        unit_id__in=list(names), template_id__in=list(templates), period=period, status="approved"
    ).order_by("id")
    out: dict[int, Approved] = {}
    for c in rows:
        t = templates[c.template_id]  # type: ignore[attr-defined]
        uid = c.unit_id  # type: ignore[attr-defined]
        out[uid] = Approved(Source(uid, names[uid], t.title, t.version, c.period, c.id, _vn_day(c.status_ms)))
    by_id = {a.source.checklist_id: a for a in out.values()}
    if by_id:
        for cid, key, value in await Answer.filter(checklist_id__in=list(by_id)).values_list(
            "checklist_id", "item_key", "value"
        ):
            by_id[cid].answers[key] = loads(value)
    return out


def sources_in_order(units: list[Unit], approved: dict[int, Approved]) -> list[Source]:
    return [approved[u.id].source for u in units if u.id in approved]


def as_date(value: Any) -> date | None:
    """A date answer ("2026-11-05") as a date; anything else None."""
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def as_number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            f = float(value.replace(",", "."))
        except ValueError:
            return None
        return int(f) if f.is_integer() else f
    return None


def iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def source_json(s: Source) -> dict:
    return {
        "unit_id": s.unit_id,
        "unit": s.unit_name,
        "template": s.template_title,
        "template_version": s.template_version,
        "period": s.period,
        "checklist_id": s.checklist_id,
        "link": s.link,
        "approved_on": iso(s.approved_on),
    }


def issuer_json(i: Issuer) -> dict:
    return {"governing": i.governing, "issuing": i.issuing, "name": i.name, "place": i.place, "area": i.area}
