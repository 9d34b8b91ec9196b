"""Reading the seed's data files into plain rows, refusing files that are themselves wrong.

`read_units`, `read_annex_totals`, `read_templates` and `read_deadlines` read `seed/data/` (or a path
given for tests) and touch no database. A mistake in a data file (a duplicate code, an unknown kind, a
template item without a reference) raises `ValueError` naming the file and the row: the loader never
writes half a bad seed. Oddities of the *source document*, kept as printed, are not errors here; they are
`seed.anomalies`' business.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from server.models import ITEM_TYPES, UNIT_KINDS
from server.textfold import fold_diacritics
from sync.periods import PERIOD_KINDS, RECURRENCE_OF_KIND, valid_recurrence

DATA = Path(__file__).resolve().parent / "data"
_ITEM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class UnitRow:
    code: str
    annex_no: int | None
    parent_code: str | None
    kind: str
    source_name: str
    name: str
    target_year: int | None

    def folded(self) -> str:
        return fold_diacritics(f"{self.name} {self.source_name}")[:255]


def _int_or_none(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if text else None


def read_units(path: Path | None = None) -> list[UnitRow]:
    path = path or DATA / "units.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = [
            UnitRow(
                code=r["code"].strip(),
                annex_no=_int_or_none(r["annex_no"]),
                parent_code=r["parent_code"].strip() or None,
                kind=r["kind"].strip(),
                source_name=r["source_name"],
                name=r["name"],
                target_year=_int_or_none(r["target_year"]),
            )
            for r in csv.DictReader(f)
        ]
    _check_units(rows)
    return rows


def _check_units(rows: list[UnitRow]) -> None:
    """Errors in the data file itself (not in the source document): refuse to load."""
    seen: set[str] = set()
    for r in rows:
        if r.code in seen:
            raise ValueError(f"units.csv: duplicate code {r.code}")
        if r.kind not in UNIT_KINDS:
            raise ValueError(f"units.csv: {r.code} has unknown kind {r.kind!r}")
        if r.parent_code is not None and r.parent_code not in seen:
            raise ValueError(f"units.csv: {r.code} names parent {r.parent_code} before it is defined")
        if not r.name.strip() or not r.source_name.strip():
            raise ValueError(f"units.csv: {r.code} has an empty name")
        seen.add(r.code)


def read_annex_totals(path: Path | None = None) -> list[dict[str, str]]:
    """The counts the annex states (scope, key, label, stated), to check against the listed rows."""
    path = path or DATA / "annex_totals.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_templates(directory: Path | None = None) -> list[dict[str, Any]]:
    directory = directory or DATA / "templates"
    templates = []
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        validate_template(data, path.name)
        templates.append(data)
    return templates


def validate_template(data: dict[str, Any], where: str = "") -> None:
    where = where or data.get("code", "?")
    for k in ("code", "version", "title", "period_kind", "legal_basis", "items"):
        if k not in data:
            raise ValueError(f"{where}: missing {k}")
    if data["period_kind"] not in PERIOD_KINDS:
        raise ValueError(f"{where}: period_kind {data['period_kind']!r} not in {PERIOD_KINDS}")
    if not isinstance(data["version"], int) or data["version"] < 1:
        raise ValueError(f"{where}: version must be a positive integer")
    keys: set[str] = set()
    for item in data["items"]:
        key = item.get("key", "")
        if key in keys:
            raise ValueError(f"{where}: duplicate item key {key}")
        _validate_item(item, where)
        keys.add(key)


def _validate_item(item: dict[str, Any], where: str) -> None:
    key = item.get("key", "")
    if not _ITEM_KEY.match(key):
        raise ValueError(f"{where}: item key {key!r} is not short ASCII snake_case")
    if item.get("type") not in ITEM_TYPES:
        raise ValueError(f"{where}: item {key} has type {item.get('type')!r} not in {ITEM_TYPES}")
    for k in ("section", "label", "reference"):
        if not str(item.get(k, "")).strip():
            raise ValueError(f"{where}: item {key} has no {k}")
    if not isinstance(item.get("required"), bool):
        raise ValueError(f"{where}: item {key}: required must be true or false")


def read_deadlines(path: Path | None = None) -> list[dict[str, Any]]:
    """Deadline rules, each naming its source document: recurring (`monthly:21`, `yearly:06-29`: the
    last day allowed), on one due date, or with no day (the document fixes none)."""
    path = path or DATA / "deadlines.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return [_deadline(r) for r in csv.DictReader(f)]


def _date_or_none(text: str) -> date | None:
    return date.fromisoformat(text.strip()) if text.strip() else None


def _deadline(r: dict[str, str]) -> dict[str, Any]:
    rec = r["recurrence"].strip()
    due = _date_or_none(r["due_date"])
    kind = r["period_kind"].strip()
    if rec and due:
        raise ValueError(f"deadlines.csv: {r['code']} has both a recurrence and a due date")
    if rec and not valid_recurrence(rec):
        raise ValueError(f"deadlines.csv: {r['code']} has a bad recurrence {rec!r}")
    if kind not in PERIOD_KINDS or (rec and rec.partition(":")[0] != RECURRENCE_OF_KIND.get(kind)):
        raise ValueError(f"deadlines.csv: {r['code']} has period kind {kind!r} that does not fit {rec!r}")
    if r["binding"].strip() not in ("0", "1"):
        raise ValueError(f"deadlines.csv: {r['code']}: binding must be 0 or 1")
    return {
        "code": r["code"].strip(),
        "title": r["title"],
        "template_code": r["template_code"].strip() or None,
        "unit_code": r["unit_code"].strip(),
        "level": _int_or_none(r["level"]),
        "period_kind": kind,
        "period_offset": int(r["period_offset"] or 0),
        "recurrence": rec,
        "due_date": due,
        "binding": r["binding"].strip() == "1",
        "source_number": r["source_number"].strip(),
        "source_date": _date_or_none(r["source_date"]),
        "source_issuer": r["source_issuer"].strip(),
        "source_quote": r["source_quote"].strip(),
        "starts_on": _date_or_none(r["starts_on"]),
        "reference": r["reference"],
    }
