"""Idempotent loader for the Kon Tum seed: units, checklist templates, deadlines and (optionally) demo data.

Run inside an initialised Tortoise (the caller does `Tortoise.init`)::

    report = await load_seed(demo=True, demo_password="...")

Seeding twice changes nothing: units are upserted by code, templates by (code, version) and their items by key,
deadlines by code, demo users by username. Rows are only written when a seeded value differs, so `updated_at`
and the unit history stay still on a re-run.

The seed data is authoritative only for what it changed: a unit renamed or moved in the application after it was
seeded keeps its local value until the seed data itself changes that field (the last seeded values are read back
from the unit's history rows written by "seed").

Oddities of the source document are kept as printed (`source_name`) and listed in `SeedReport.anomalies`; most
are found by code (folding names, grouping spellings, comparing stated and listed counts), a few come from
knowledge of the administrative map and are marked as needing a check.
"""
from __future__ import annotations

import csv
import json
import re
import secrets
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

from tortoise.transactions import in_transaction

from server.models import (
    ITEM_TYPES,
    UNIT_KINDS,
    Deadline,
    Template,
    TemplateItem,
    Unit,
    UnitHistory,
    User,
)
from server.textfold import fold_diacritics

DATA = Path(__file__).resolve().parent / "data"
SEED_USER = "seed"
PERIOD_KINDS = ("once", "month", "year")
PROVINCE_CODE = "KT"
COMMUNE_KINDS = ("commune", "ward", "town")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_RECURRENCE = re.compile(r"monthly:(0?[1-9]|[12]\d|3[01])|yearly:(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")

Progress = Callable[[str, int, int], None]


# --------------------------------------------------------------------------------------------- report


@dataclass
class SeedReport:
    units_created: int = 0
    units_updated: int = 0
    history_written: int = 0
    templates_created: int = 0
    templates_updated: int = 0
    items_created: int = 0
    items_updated: int = 0
    items_deleted: int = 0
    deadlines_created: int = 0
    deadlines_updated: int = 0
    users_created: int = 0
    statuses_set: int = 0
    anomalies: list[str] = field(default_factory=list)
    demo_password: str | None = None  # only when generated here (not when given by the caller)
    logins: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any((
            self.units_created, self.units_updated, self.history_written, self.templates_created,
            self.templates_updated, self.items_created, self.items_updated, self.items_deleted,
            self.deadlines_created, self.deadlines_updated, self.users_created, self.statuses_set,
        ))


# ----------------------------------------------------------------------------------------- reading data


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
        if not _KEY_RE.match(key):
            raise ValueError(f"{where}: item key {key!r} is not short ASCII snake_case")
        if key in keys:
            raise ValueError(f"{where}: duplicate item key {key}")
        keys.add(key)
        if item.get("type") not in ITEM_TYPES:
            raise ValueError(f"{where}: item {key} has type {item.get('type')!r} not in {ITEM_TYPES}")
        for k in ("section", "label", "reference"):
            if not str(item.get(k, "")).strip():
                raise ValueError(f"{where}: item {key} has no {k}")
        if not isinstance(item.get("required"), bool):
            raise ValueError(f"{where}: item {key}: required must be true or false")


def read_deadlines(path: Path | None = None) -> list[dict[str, Any]]:
    path = path or DATA / "deadlines.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = []
        for r in csv.DictReader(f):
            rec = r["recurrence"].strip()
            due = date.fromisoformat(r["due_date"]) if r["due_date"].strip() else None
            if bool(rec) == bool(due):
                raise ValueError(f"deadlines.csv: {r['code']} needs either a recurrence or a due date")
            if rec and not _RECURRENCE.fullmatch(rec):
                raise ValueError(f"deadlines.csv: {r['code']} has a bad recurrence {rec!r}")
            rows.append({
                "code": r["code"].strip(), "title": r["title"], "template_code": r["template_code"].strip() or None,
                "unit_code": r["unit_code"].strip(), "level": _int_or_none(r["level"]), "recurrence": rec,
                "due_date": due, "reference": r["reference"],
            })
    return rows


# ------------------------------------------------------------------------------------- anomaly analysis

_TONE_MARKS = {"\u0300": "huyền", "\u0301": "sắc", "\u0303": "ngã", "\u0309": "hỏi", "\u0323": "nặng"}
_KIND_WORD = re.compile(r"^(?:Ủy ban nhân dân\s+)?(thành phố|huyện|thị trấn|phường|xã|tỉnh)\s+(.*)$", re.IGNORECASE)
_APOSTROPHES = "'\u2019\u2018"


def split_kind_word(source_name: str) -> tuple[str | None, str]:
    """("xã", "Đăk Kan") from "Ủy ban nhân dân xã Đăk Kan"; (None, name) when there is no kind word."""
    m = _KIND_WORD.match(source_name.strip())
    if not m:
        return None, source_name.strip()
    return m.group(1).lower(), m.group(2).strip()


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[\s,\-]+", text) if t]


def syllable_key(token: str) -> tuple[str, str]:
    """A spelling-insensitive key for one syllable of a place name.

    Two spellings share a key when they differ only in ways the annex itself mixes: a final k for c (Ngọc/Ngọk),
    no tone or a sắc tone on a syllable closed by a stop consonant (Đăk/Đắk), or where the tone mark sits in
    oa/oe/uy (Hòa/Hoà). Distinct names such as Tơ/Tờ or Tô/Tơ keep distinct keys.
    """
    decomposed = unicodedata.normalize("NFD", token.lower())
    tone = next((_TONE_MARKS[ch] for ch in decomposed if ch in _TONE_MARKS), "")
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_MARKS))
    base = base.replace("\u2019", "'").replace("\u2018", "'")
    if base.endswith("k"):
        base = base[:-1] + "c"
    if re.search(r"(c|ch|p|t)$", base) and tone in ("", "sắc"):
        tone = "stop"
    return base, tone


def name_key(proper: str) -> tuple[tuple[str, str], ...]:
    proper = proper.replace("\u2019", "'")
    # "ĐăkRơWa" and "Đăk Rơ Wa" are the same name
    spaced = "".join((" " + ch) if i and ch.isupper() and proper[i - 1].islower() else ch
                     for i, ch in enumerate(proper))
    return tuple(syllable_key(t) for t in _tokens(spaced))


def _tone_position(token: str) -> str | None:
    """'old' (hòa, thủy), 'new' (hoà, thuỷ) or None for syllables where the placement cannot differ."""
    letters: list[str] = []
    tone_at = None
    for ch in unicodedata.normalize("NFD", token.lower()):
        if ch in _TONE_MARKS:
            tone_at = len(letters) - 1
        elif unicodedata.combining(ch) and letters:
            letters[-1] += ch  # breve, circumflex, horn belong to their letter
        else:
            letters.append(ch)
    if tone_at is None:
        return None
    word = "".join(unicodedata.normalize("NFC", letter) for letter in letters)
    m = re.search(r"(oa|oe|uy)$", word)
    if not m or word.startswith("qu") or len(word) != len(letters):
        return None
    return "old" if tone_at == m.start() else "new" if tone_at == m.start() + 1 else None


def _codes(codes: list[str], limit: int = 8) -> str:
    codes = sorted(codes)
    if len(codes) <= limit:
        return ", ".join(codes)
    return ", ".join(codes[:limit]) + f", … ({len(codes)} đơn vị)"


def _mechanical_name(row: UnitRow) -> str:
    """What the display name would be with only the routine clean-up (prefix, capital, apostrophe)."""
    src = row.source_name.replace("\u2019", "'").replace("\u2018", "'")
    if row.kind in COMMUNE_KINDS:
        src = re.sub(r"^Ủy ban nhân dân\s+", "", src)
    else:
        src = re.sub(r"^Ủy ban nhân dân\b", "UBND", src)
        src = src.replace("Văn phòng Ủy ban nhân dân", "Văn phòng UBND")
    return src[:1].upper() + src[1:]


# Facts that cannot be computed from the annex alone; each is reported only while the source spelling it is
# about is still in the data. They come from the administrative map and are marked as needing a check.
KNOWN_NOTES: dict[str, tuple[str, str]] = {
    "KT-096": ("Ủy ban nhân dân xã Đăk Trăm",
               "xã Đăk Trăm là xã của huyện Đăk Tô (huyện Đăk Tô trong phụ lục chỉ có 8 dòng), phụ lục xếp vào "
               "huyện Tu Mơ Rông; giữ như phụ lục, cần đối chiếu danh mục đơn vị hành chính"),
    "KT-095": ("Ủy ban nhân dân thị trấn Đắk Hà",
               "huyện Tu Mơ Rông không có thị trấn nào (huyện lỵ đặt tại xã Đăk Hà); dòng này có lẽ là xã Đăk Hà "
               "của huyện Tu Mơ Rông; giữ loại 'thị trấn' như phụ lục, cần đối chiếu"),
    "KT-068": ("Ủy ban nhân dân xã Đăk Pét", "tên xã thường được viết là 'Đăk Pék'; cần đối chiếu"),
    "KT-112": ("Ủy ban nhân dân xã Đăk Uy", "tên xã thường được viết là 'Đăk Ui'; cần đối chiếu"),
    "KT-135": ("Xã Mô Ray", "tên xã thường được viết là 'Mô Rai'; cần đối chiếu"),
    "KT-141": ("Xã Yaly", "tên xã thường được viết là 'Ya Ly'; cần đối chiếu"),
    "KT-064": ("Ủy ban nhân dân xã Chư H\u2019reng", "tên xã thường được viết là 'Chư Hreng'; cần đối chiếu"),
    "KT-022": ("Ban Thi đua khen thưởng",
               "chính văn của cùng Quyết định 474 (mục VI.3) viết 'Ban Thi đua - Khen thưởng'"),
}


def analyse_units(rows: list[UnitRow], totals: list[dict[str, str]] | None = None) -> list[str]:
    """Readable notes on oddities of the annex, computed from the rows (and the counts the annex states)."""
    notes: list[str] = []
    by_code = {r.code: r for r in rows}
    agencies = [r for r in rows if r.annex_no is not None]
    communes = [r for r in rows if r.kind in COMMUNE_KINDS]
    districts = [r for r in rows if r.kind == "district"]

    def label(code: str | None) -> str:
        r = by_code.get(code or "")
        return f"{r.name} ({r.code})" if r else str(code)

    # 1. stated counts against listed rows
    for t in totals or []:
        stated = int(t["stated"])
        if t["scope"] == "all":
            listed = len(agencies)
        elif t["scope"] == "target_year":
            listed = sum(1 for r in agencies if r.target_year == int(t["key"]))
        elif t["scope"] == "kind":
            kinds = t["key"].split("|")
            listed = sum(1 for r in agencies if r.kind in kinds)
        elif t["scope"] == "parent":
            listed = sum(1 for r in rows if r.parent_code == t["key"] and r.kind in COMMUNE_KINDS)
            parent = by_code.get(t["key"])
            if parent and fold_diacritics(t["label"]) != fold_diacritics(
                    " ".join(filter(None, split_kind_word(parent.source_name)))):
                notes.append(f"Tiêu đề nhóm '{t['label']}' trong phụ lục không khớp tên {label(t['key'])}.")
        else:
            continue
        if listed != stated:
            notes.append(f"Số lượng không khớp: phụ lục ghi '{t['label']}' = {t['stated']} nhưng liệt kê {listed} dòng.")

    # 2. annex numbering
    numbers = sorted(r.annex_no for r in agencies if r.annex_no is not None)
    if numbers != list(range(1, len(numbers) + 1)):
        notes.append(f"Số thứ tự (TT) của phụ lục không liên tục từ 1 đến {len(numbers)}.")

    # 3. same name (ignoring Đăk/Đắk, Ngọc/Ngọk, tone placement) in several places
    groups: dict[tuple, list[UnitRow]] = defaultdict(list)
    for r in communes:
        groups[name_key(split_kind_word(r.source_name)[1])].append(r)
    for members in groups.values():
        if len(members) < 2:
            continue
        where = "; ".join(f"'{m.source_name}' ({m.code}, {by_code[m.parent_code].name})" for m in members)
        same_display = len({m.name for m in members}) < len(members)
        extra = " Tên hiển thị trùng nhau, giao diện cần kèm tên huyện." if same_display else ""
        notes.append(f"Cùng một tên ở nhiều huyện: {where}.{extra}")

    # 4. a town named after another district
    district_keys = {name_key(split_kind_word(d.source_name)[1]): d for d in districts}
    for r in communes:
        if r.kind != "town":
            continue
        other = district_keys.get(name_key(split_kind_word(r.source_name)[1]))
        if other and other.code != r.parent_code:
            own = [c for c in communes if c.parent_code == other.code and c.kind == "town"
                   and name_key(split_kind_word(c.source_name)[1]) == name_key(split_kind_word(r.source_name)[1])]
            also = f", và thị trấn cùng tên của huyện đó đã có ở {own[0].code} ('{own[0].source_name}')" if own else ""
            notes.append(
                f"{r.code} '{r.source_name}' được xếp dưới {label(r.parent_code)}, nhưng đó là tên của "
                f"{label(other.code)}{also}: dòng lạ, giữ nguyên như phụ lục.")

    # 5. spelling variants of one syllable (Đăk/Đắk, Ngọc/Ngọk), overall and inside one district
    spellings: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    per_district: dict[str, dict[tuple[str, str], dict[str, list[str]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list)))
    for r in rows:
        if r.kind not in COMMUNE_KINDS and r.kind != "district":
            continue
        proper = split_kind_word(r.source_name)[1].replace("\u2019", "'")
        spaced = "".join((" " + ch) if i and ch.isupper() and proper[i - 1].islower() else ch
                         for i, ch in enumerate(proper))
        district = r.parent_code if r.kind in COMMUNE_KINDS else r.code
        for tok in _tokens(spaced):
            k = syllable_key(tok)
            tok = tok[:1].upper() + tok[1:]  # capitals are reported on their own
            spellings[k][tok].append(r.code)
            per_district[district][k][tok].append(r.code)
    for k, forms in spellings.items():
        if len(forms) > 1:
            parts = "; ".join(f"'{tok}' ({_codes(codes)})" for tok, codes in
                              sorted(forms.items(), key=lambda kv: -len(kv[1])))
            notes.append(f"Cùng một âm tiết viết nhiều cách trong phụ lục: {parts}. Giữ nguyên; tìm kiếm không phân biệt.")
    for district, keys in per_district.items():
        for k, forms in keys.items():
            if len(forms) > 1:
                parts = " và ".join(f"'{tok}' ({_codes(codes)})" for tok, codes in forms.items())
                notes.append(f"Trong {label(district)} phụ lục viết lẫn {parts}.")

    # 6. tone placement: old (hòa, thủy) and new (hoà, thuỷ) styles in one document
    styles: dict[str, dict[str, list[str]]] = {"old": defaultdict(list), "new": defaultdict(list)}
    for r in rows:
        for tok in _tokens(r.source_name):
            pos = _tone_position(tok)
            if pos:
                styles[pos][tok.lower()].append(r.code)
    if styles["old"] and styles["new"]:
        count = {k: sum(len(c) for c in v.values()) for k, v in styles.items()}
        few, many = ("new", "old") if count["new"] <= count["old"] else ("old", "new")
        name = {"old": "kiểu cũ (hòa, thủy)", "new": "kiểu mới (hoà, thuỷ)"}
        fmt = lambda d: ", ".join(f"'{t}' ({_codes(c, 4)})" for t, c in d.items())  # noqa: E731
        notes.append(f"Vị trí dấu thanh không thống nhất: {fmt(styles[few])} đặt dấu {name[few]}, còn lại phụ lục "
                     f"đặt dấu {name[many]}: {', '.join(repr(t) for t in styles[many])}. "
                     "Giữ nguyên; tìm kiếm không phân biệt.")

    # 7. per-row oddities of the source spelling, with the display name chosen
    reasons: dict[str, list[str]] = defaultdict(list)
    apostrophe_case: dict[str, list[str]] = {"upper": [], "lower": []}
    for r in rows:
        if r.kind not in COMMUNE_KINDS and r.kind != "district":
            continue
        kind_word, proper = split_kind_word(r.source_name)
        toks = proper.split()
        if toks and toks[0][:1].islower():
            reasons[r.code].append(f"từ thừa '{toks[0]}' trước tên")
        for tok in toks[1:]:
            if tok[:1].islower():
                reasons[r.code].append(f"âm tiết '{tok}' viết thường")
        for tok in toks:
            if any(ch.islower() and nxt.isupper() for ch, nxt in zip(tok, tok[1:])):
                reasons[r.code].append(f"'{tok}' viết liền không cách")
            m = re.search(f"[{_APOSTROPHES}](\\w)", tok)
            if m:
                apostrophe_case["upper" if m.group(1).isupper() else "lower"].append(f"'{tok}' ({r.code})")
        if "\u2019" in r.source_name:
            reasons[r.code].append("dấu nháy cong (’) trong nguyên văn, tên hiển thị dùng dấu nháy thẳng")
    if apostrophe_case["upper"] and apostrophe_case["lower"]:
        notes.append("Chữ sau dấu nháy viết hoa không thống nhất: " + ", ".join(apostrophe_case["upper"])
                     + " so với " + ", ".join(apostrophe_case["lower"]) + ".")
    for r in rows:
        if r.name != _mechanical_name(r) and not reasons.get(r.code):
            reasons[r.code].append("tên hiển thị khác nguyên văn")
    for code in sorted(reasons, key=lambda c: (by_code[c].annex_no or 0)):
        r = by_code[code]
        shown = f" → hiển thị '{r.name}'" if r.name != r.source_name else ""
        notes.append(f"{code} nguyên văn '{r.source_name}'{shown}: {'; '.join(dict.fromkeys(reasons[code]))}.")

    # 8. the annex changes its format part-way
    bare = [r for r in communes if not r.source_name.startswith("Ủy ban nhân dân")]
    if bare and len(bare) < len(communes):
        first = min(bare, key=lambda r: r.annex_no or 0)
        notes.append(
            f"Từ TT {first.annex_no} ({by_code[first.parent_code].name}) phụ lục bỏ tiền tố 'Ủy ban nhân dân' "
            f"({len(bare)} dòng: {_codes([r.code for r in bare], 3)}); các dòng trước đều có.")

    # 9. known facts that need checking
    for code, (spelling, note) in KNOWN_NOTES.items():
        r = by_code.get(code)
        if r and r.source_name == spelling:
            notes.append(f"{code} '{r.source_name}': {note}.")
    return notes


# ------------------------------------------------------------------------------------------------ units

_SNAPSHOT_FIELDS = ("name", "source_name", "parent_code", "kind", "level", "target_year", "annex_no")


def _snapshot(row: UnitRow, level: int) -> dict[str, Any]:
    return {"name": row.name, "source_name": row.source_name, "parent_code": row.parent_code, "kind": row.kind,
            "level": level, "target_year": row.target_year, "annex_no": row.annex_no}


async def _load_units(rows: list[UnitRow], report: SeedReport, progress: Progress | None) -> None:
    existing = {u.code: u for u in await Unit.all()}
    code_by_id = {u.id: u.code for u in existing.values()}
    seeded: dict[int, dict[str, Any]] = defaultdict(dict)
    for h in await UnitHistory.filter(by_username=SEED_USER).order_by("id").values("unit_id", "new"):
        if isinstance(h["new"], dict):
            seeded[h["unit_id"]].update({k: v for k, v in h["new"].items() if k in _SNAPSHOT_FIELDS})

    for done, row in enumerate(rows, 1):
        parent = existing.get(row.parent_code) if row.parent_code else None
        if row.parent_code and parent is None:
            raise ValueError(f"unit {row.code}: parent {row.parent_code} missing")
        level = parent.level + 1 if parent else 0
        want = _snapshot(row, level)
        unit = existing.get(row.code)
        if unit is None:
            unit = await Unit.create(
                code=row.code, kind=row.kind, level=level, parent=parent, source_name=row.source_name,
                name=row.name, name_folded=row.folded(), target_year=row.target_year, annex_no=row.annex_no,
            )
            await UnitHistory.create(unit=unit, change="create", old=None, new=want, by_username=SEED_USER)
            existing[row.code] = unit
            code_by_id[unit.id] = row.code
            report.units_created += 1
            report.history_written += 1
        else:
            have = {
                "name": unit.name, "source_name": unit.source_name,
                "parent_code": code_by_id.get(unit.parent_id) if unit.parent_id else None,  # type: ignore[attr-defined]
                "kind": unit.kind, "level": unit.level, "target_year": unit.target_year, "annex_no": unit.annex_no,
            }
            last = seeded.get(unit.id) or have
            apply: dict[str, Any] = {}
            for f in _SNAPSHOT_FIELDS:
                if want[f] == last.get(f, have[f]):
                    if have[f] != want[f] and f not in ("level",):
                        report.anomalies.append(
                            f"{row.code}: '{f}' đã được đổi trong ứng dụng ({have[f]!r}, dữ liệu gốc {want[f]!r}); "
                            "giữ giá trị hiện tại.")
                    continue
                if have[f] != want[f]:
                    apply[f] = want[f]
            history: list[tuple[str, dict, dict]] = []
            rename = {f: apply[f] for f in ("name", "source_name") if f in apply}
            move = {f: apply[f] for f in ("parent_code", "level") if f in apply}
            other = {f: apply[f] for f in ("kind", "target_year", "annex_no") if f in apply}
            if rename:
                history.append(("rename", {f: have[f] for f in rename}, rename))
            if move:
                history.append(("move", {f: have[f] for f in move}, move))
            if other:
                history.append(("update", {f: have[f] for f in other}, other))
            for f, v in apply.items():
                if f == "parent_code":
                    unit.parent = parent  # type: ignore[assignment]
                elif f != "level":
                    setattr(unit, f, v)
            if "level" in apply:
                unit.level = level
            folded = fold_diacritics(f"{unit.name} {unit.source_name}")[:255]
            if folded != unit.name_folded:
                unit.name_folded = folded
                apply["name_folded"] = folded
            if apply:
                await unit.save()
                report.units_updated += 1
                for change, old, new in history:
                    await UnitHistory.create(unit=unit, change=change, old=old, new=new, by_username=SEED_USER)
                    report.history_written += 1
        if progress:
            progress("Đơn vị", done, len(rows))


# -------------------------------------------------------------------------------------------- templates

_TEMPLATE_FIELDS = ("title", "description", "period_kind", "legal_basis")
_ITEM_FIELDS = ("position", "section", "type", "required", "label", "help", "reference")


async def _template_in_use(template: Template) -> bool:
    try:
        from sync.models import Checklist
    except ImportError:  # pragma: no cover - sync models are always registered in this project
        return False
    return await Checklist.filter(template_id=template.id).exists()


async def _load_templates(templates: list[dict[str, Any]], report: SeedReport, progress: Progress | None) -> None:
    for done, data in enumerate(templates, 1):
        wanted_items = [
            {"key": it["key"], "position": pos, "section": it["section"], "type": it["type"],
             "required": it["required"], "label": it["label"], "help": it.get("help", ""),
             "reference": it["reference"]}
            for pos, it in enumerate(data["items"], 1)
        ]
        fields = {f: data.get(f, "") for f in _TEMPLATE_FIELDS}
        template = await Template.get_or_none(code=data["code"], version=data["version"])
        if template is None:
            template = await Template.create(code=data["code"], version=data["version"], **fields)
            await TemplateItem.bulk_create([TemplateItem(template=template, **it) for it in wanted_items])
            report.templates_created += 1
            report.items_created += len(wanted_items)
        else:
            items = {i.key: i for i in await TemplateItem.filter(template_id=template.id)}
            template_changes = {f: v for f, v in fields.items() if getattr(template, f) != v}
            new_items = [it for it in wanted_items if it["key"] not in items]
            changed_items = [
                it for it in wanted_items
                if it["key"] in items and any(getattr(items[it["key"]], f) != it[f] for f in _ITEM_FIELDS)
            ]
            wanted_keys = {it["key"] for it in wanted_items}
            gone = [k for k in items if k not in wanted_keys]
            if template_changes or new_items or changed_items or gone:
                if await _template_in_use(template):
                    report.anomalies.append(
                        f"Mẫu phiếu {data['code']} phiên bản {data['version']} đã có phiếu sử dụng nhưng khác dữ liệu "
                        f"gốc; không sửa phiên bản đang dùng, hãy tăng version trong seed/data/templates.")
                else:
                    if template_changes:
                        for f, v in template_changes.items():
                            setattr(template, f, v)
                        await template.save()
                    report.templates_updated += 1
                    for it in changed_items:
                        item = items[it["key"]]
                        for f in _ITEM_FIELDS:
                            setattr(item, f, it[f])
                        await item.save()
                    if gone:
                        await TemplateItem.filter(template_id=template.id, key__in=gone).delete()
                    if new_items:
                        await TemplateItem.bulk_create([TemplateItem(template=template, **it) for it in new_items])
                    report.items_created += len(new_items)
                    report.items_updated += len(changed_items)
                    report.items_deleted += len(gone)
        if progress:
            progress("Mẫu phiếu", done, len(templates))


# -------------------------------------------------------------------------------------------- deadlines


async def _load_deadlines(rows: list[dict[str, Any]], report: SeedReport, progress: Progress | None) -> None:
    units = {u.code: u for u in await Unit.all()}
    latest: dict[str, Template] = {}
    for t in await Template.all().order_by("version"):
        latest[t.code] = t
    existing = {d.code: d for d in await Deadline.all()}
    for done, r in enumerate(rows, 1):
        unit = units.get(r["unit_code"])
        if unit is None:
            raise ValueError(f"deadline {r['code']}: unknown unit {r['unit_code']}")
        template = latest.get(r["template_code"]) if r["template_code"] else None
        if r["template_code"] and template is None:
            raise ValueError(f"deadline {r['code']}: unknown template {r['template_code']}")
        want = {"title": r["title"], "template_id": template.id if template else None, "unit_id": unit.id,
                "level": r["level"], "recurrence": r["recurrence"], "due_date": r["due_date"],
                "reference": r["reference"]}
        d = existing.get(r["code"])
        if d is None:
            await Deadline.create(code=r["code"], **want)
            report.deadlines_created += 1
        else:
            changes = {f: v for f, v in want.items() if getattr(d, f) != v}
            if changes:
                for f, v in changes.items():
                    setattr(d, f, v)
                await d.save()
                report.deadlines_updated += 1
        if progress:
            progress("Hạn báo cáo", done, len(rows))


# ------------------------------------------------------------------------------------------------- demo

DEMO_USERS = (
    # username, role, unit code, full name
    ("admin", "admin", "KT", "Nguyễn Văn Minh (Sở Khoa học và Công nghệ)"),
    ("huyen.iahdrai", "reviewer", "KT-045", "Lê Thị Thu Hà"),
    ("huyen.tumorong", "reviewer", "KT-040", "A Thuyên"),
    ("xa.iatoi", "official", "KT-147", "Rơ Châm Hạnh"),
    ("xa.tumorong", "official", "KT-097", "Y Liên"),
)

_S000 = ("Báo cáo của UBND huyện Ngọc Hồi về tình hình triển khai xây dựng, áp dụng HTQLCL theo TCVN ISO 9001 "
         "đối với cấp xã (thực hiện Công văn số 585/SKHCN-TĐC ngày 27/7/2020 của Sở Khoa học và Công nghệ), mục 2")
# The report carries no date of its own; it answers the letter of 27/7/2020 and expects completion by
# October 2020, so the status is dated to that letter.
DEMO_STATUS_DATE = date(2020, 7, 27)
DEMO_STATUSES = (
    # code, status, note
    *((code, "iso2015", f"{_S000}: đã hoàn thành chuyển đổi và áp dụng HTQLCL theo ISO 9001:2015 "
                        f"(báo cáo không ghi ngày; lấy ngày của Công văn 585/SKHCN-TĐC).")
      for code in ("KT-086", "KT-085", "KT-083", "KT-081", "KT-080")),  # Đăk Kan, Sa Loong, Đăk Xú, Đăk Dục, Đăk Ang
    *((code, "converting", f"{_S000}: đang chuyển đổi từ ISO 9001:2008 sang ISO 9001:2015 "
                           f"(báo cáo không ghi ngày; lấy ngày của Công văn 585/SKHCN-TĐC).")
      for code in ("KT-082", "KT-084", "KT-079")),  # Đăk Nông, Pờ Y, thị trấn Plei Kần
)


async def _load_demo(report: SeedReport, password: str | None, progress: Progress | None) -> None:
    from server.auth import hash_password

    units = {u.code: u for u in await Unit.filter(code__in=[c for _, _, c, _ in DEMO_USERS]
                                                   + [c for c, _, _ in DEMO_STATUSES])}
    total = len(DEMO_USERS) + len(DEMO_STATUSES)
    done = 0
    existing = {u.username for u in await User.filter(username__in=[u for u, *_ in DEMO_USERS])}
    for username, role, unit_code, full_name in DEMO_USERS:
        unit = units[unit_code]
        if username not in existing:
            if password is None:
                password = secrets.token_urlsafe(9)
                report.demo_password = password
            await User.create(username=username, full_name=full_name, role=role, unit=unit,
                              password_hash=hash_password(password))
            report.users_created += 1
        report.logins.append(f"{username:<16} {role:<9} {unit.name}")
        done += 1
        if progress:
            progress("Dữ liệu demo", done, total)
    for code, status, note in DEMO_STATUSES:
        unit = units[code]
        if unit.qms_status == "none":  # never overwrite progress recorded since
            old = {"qms_status": unit.qms_status, "qms_status_date": None}
            unit.qms_status = status
            unit.qms_status_date = DEMO_STATUS_DATE
            unit.qms_note = note
            await unit.save()
            await UnitHistory.create(
                unit=unit, change="status", old=old, by_username=SEED_USER,
                new={"qms_status": status, "qms_status_date": DEMO_STATUS_DATE.isoformat(), "note": note},
            )
            report.statuses_set += 1
            report.history_written += 1
        done += 1
        if progress:
            progress("Dữ liệu demo", done, total)


# ------------------------------------------------------------------------------------------------ entry


async def load_seed(
    *,
    demo: bool = False,
    demo_password: str | None = None,
    progress: Progress | None = None,
) -> SeedReport:
    """Upsert the seed into the initialised database; see the module docstring."""
    report = SeedReport()
    unit_rows = read_units()
    templates = read_templates()
    deadlines = read_deadlines()
    report.anomalies.extend(analyse_units(unit_rows, read_annex_totals()))
    async with in_transaction():
        await _load_units(unit_rows, report, progress)
    async with in_transaction():
        await _load_templates(templates, report, progress)
    async with in_transaction():
        await _load_deadlines(deadlines, report, progress)
    if demo:
        async with in_transaction():
            await _load_demo(report, demo_password, progress)
    return report


__all__ = ["SeedReport", "UnitRow", "analyse_units", "load_seed", "read_templates", "read_units"]
