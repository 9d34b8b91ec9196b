"""Oddities of the annex of Quyết định 474, found by reading Vietnamese spelling, never corrected.

`analyse_units(rows, totals)` returns readable Vietnamese notes, in a fixed order: counts the annex states
against the rows it lists, its numbering, one name in several districts, a town named after another
district, one syllable spelled several ways (Đăk/Đắk, Ngọc/Ngọk), old and new tone placement (hòa/hoà),
per-row spelling oddities with the display name chosen, the point where the annex changes its format,
and facts from the administrative map that need checking (`KNOWN_NOTES`). Pure: no database.

`syllable_key` and `name_key` are the spelling-insensitive keys that group variants while keeping
distinct names (Tơ/Tờ) apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from server.textfold import fold_diacritics

from .read import UnitRow

COMMUNE_KINDS = ("commune", "ward", "town")
_TONE_MARKS = {"\u0300": "huyền", "\u0301": "sắc", "\u0303": "ngã", "\u0309": "hỏi", "\u0323": "nặng"}
_KIND_WORD = re.compile(r"^(?:Ủy ban nhân dân\s+)?(thành phố|huyện|thị trấn|phường|xã|tỉnh)\s+(.*)$", re.IGNORECASE)
_APOSTROPHES = "'\u2019\u2018"

# Facts that cannot be computed from the annex alone; each is reported only while the source spelling it is
# about is still in the data. They come from the administrative map and are marked as needing a check.
KNOWN_NOTES: dict[str, tuple[str, str]] = {
    "KT-096": (
        "Ủy ban nhân dân xã Đăk Trăm",
        "xã Đăk Trăm là xã của huyện Đăk Tô (huyện Đăk Tô trong phụ lục chỉ có 8 dòng), phụ lục xếp vào "
        "huyện Tu Mơ Rông; giữ như phụ lục, cần đối chiếu danh mục đơn vị hành chính",
    ),
    "KT-095": (
        "Ủy ban nhân dân thị trấn Đắk Hà",
        "huyện Tu Mơ Rông không có thị trấn nào (huyện lỵ đặt tại xã Đăk Hà); dòng này có lẽ là xã Đăk Hà "
        "của huyện Tu Mơ Rông; giữ loại 'thị trấn' như phụ lục, cần đối chiếu",
    ),
    "KT-068": ("Ủy ban nhân dân xã Đăk Pét", "tên xã thường được viết là 'Đăk Pék'; cần đối chiếu"),
    "KT-112": ("Ủy ban nhân dân xã Đăk Uy", "tên xã thường được viết là 'Đăk Ui'; cần đối chiếu"),
    "KT-135": ("Xã Mô Ray", "tên xã thường được viết là 'Mô Rai'; cần đối chiếu"),
    "KT-141": ("Xã Yaly", "tên xã thường được viết là 'Ya Ly'; cần đối chiếu"),
    "KT-064": ("Ủy ban nhân dân xã Chư H\u2019reng", "tên xã thường được viết là 'Chư Hreng'; cần đối chiếu"),
    "KT-022": (
        "Ban Thi đua khen thưởng",
        "chính văn của cùng Quyết định 474 (mục VI.3) viết 'Ban Thi đua - Khen thưởng'",
    ),
}


# ------------------------------------------------------------------------------------- spelling keys


def split_kind_word(source_name: str) -> tuple[str | None, str]:
    """("xã", "Đăk Kan") from "Ủy ban nhân dân xã Đăk Kan"; (None, name) when there is no kind word."""
    m = _KIND_WORD.match(source_name.strip())
    if not m:
        return None, source_name.strip()
    return m.group(1).lower(), m.group(2).strip()


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[\s,\-]+", text) if t]


def _spaced(proper: str) -> str:
    """ "ĐăkRơWa" → "Đăk Rơ Wa": syllables run together are the same name."""
    return "".join((" " + ch) if i and ch.isupper() and proper[i - 1].islower() else ch for i, ch in enumerate(proper))


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
    return tuple(syllable_key(t) for t in _tokens(_spaced(proper.replace("\u2019", "'"))))


def _proper_name_key(row: UnitRow) -> tuple[tuple[str, str], ...]:
    return name_key(split_kind_word(row.source_name)[1])


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


# ------------------------------------------------------------------------------------------ the checks


@dataclass
class _Annex:
    """The rows and the views of them every check needs."""

    rows: list[UnitRow]
    by_code: dict[str, UnitRow] = field(init=False)
    agencies: list[UnitRow] = field(init=False)
    communes: list[UnitRow] = field(init=False)
    districts: list[UnitRow] = field(init=False)

    def __post_init__(self) -> None:
        self.by_code = {r.code: r for r in self.rows}
        self.agencies = [r for r in self.rows if r.annex_no is not None]
        self.communes = [r for r in self.rows if r.kind in COMMUNE_KINDS]
        self.districts = [r for r in self.rows if r.kind == "district"]

    def label(self, code: str | None) -> str:
        r = self.by_code.get(code or "")
        return f"{r.name} ({r.code})" if r else str(code)

    def place_names(self) -> list[UnitRow]:
        """Districts and communes: the rows whose names are Vietnamese place names."""
        return [r for r in self.rows if r.kind in COMMUNE_KINDS or r.kind == "district"]


def _stated_counts(annex: _Annex, totals: list[dict[str, str]]) -> list[str]:
    notes = []
    for t in totals:
        if t["scope"] == "all":
            listed = len(annex.agencies)
        elif t["scope"] == "target_year":
            listed = sum(1 for r in annex.agencies if r.target_year == int(t["key"]))
        elif t["scope"] == "kind":
            kinds = t["key"].split("|")
            listed = sum(1 for r in annex.agencies if r.kind in kinds)
        elif t["scope"] == "parent":
            listed = sum(1 for r in annex.rows if r.parent_code == t["key"] and r.kind in COMMUNE_KINDS)
            parent = annex.by_code.get(t["key"])
            if parent and fold_diacritics(t["label"]) != fold_diacritics(
                " ".join(filter(None, split_kind_word(parent.source_name)))
            ):
                notes.append(f"Tiêu đề nhóm '{t['label']}' trong phụ lục không khớp tên {annex.label(t['key'])}.")
        else:
            continue
        if listed != int(t["stated"]):
            notes.append(
                f"Số lượng không khớp: phụ lục ghi '{t['label']}' = {t['stated']} nhưng liệt kê {listed} dòng."
            )
    return notes


def _numbering(annex: _Annex) -> list[str]:
    numbers = sorted(r.annex_no for r in annex.agencies if r.annex_no is not None)
    if numbers != list(range(1, len(numbers) + 1)):
        return [f"Số thứ tự (TT) của phụ lục không liên tục từ 1 đến {len(numbers)}."]
    return []


def _same_name_in_several_districts(annex: _Annex) -> list[str]:
    """The same name, ignoring Đăk/Đắk, Ngọc/Ngọk and tone placement, under several districts."""
    groups: dict[tuple, list[UnitRow]] = defaultdict(list)
    for r in annex.communes:
        groups[_proper_name_key(r)].append(r)
    notes = []
    for members in groups.values():
        if len(members) < 2:
            continue
        where = "; ".join(f"'{m.source_name}' ({m.code}, {annex.by_code[m.parent_code].name})" for m in members)
        same_display = len({m.name for m in members}) < len(members)
        extra = " Tên hiển thị trùng nhau, giao diện cần kèm tên huyện." if same_display else ""
        notes.append(f"Cùng một tên ở nhiều huyện: {where}.{extra}")
    return notes


def _town_named_after_another_district(annex: _Annex) -> list[str]:
    district_keys = {_proper_name_key(d): d for d in annex.districts}
    notes = []
    for r in annex.communes:
        if r.kind != "town":
            continue
        key = _proper_name_key(r)
        other = district_keys.get(key)
        if other and other.code != r.parent_code:
            own = [
                c
                for c in annex.communes
                if c.parent_code == other.code and c.kind == "town" and _proper_name_key(c) == key
            ]
            also = f", và thị trấn cùng tên của huyện đó đã có ở {own[0].code} ('{own[0].source_name}')" if own else ""
            notes.append(
                f"{r.code} '{r.source_name}' được xếp dưới {annex.label(r.parent_code)}, nhưng đó là tên của "
                f"{annex.label(other.code)}{also}: dòng lạ, giữ nguyên như phụ lục."
            )
    return notes


def _syllable_spellings(annex: _Annex) -> list[str]:
    """Spelling variants of one syllable (Đăk/Đắk, Ngọc/Ngọk), overall and inside one district."""
    spellings: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    per_district: dict[str, dict[tuple[str, str], dict[str, list[str]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for r in annex.place_names():
        proper = split_kind_word(r.source_name)[1].replace("\u2019", "'")
        district = r.parent_code if r.kind in COMMUNE_KINDS else r.code
        for tok in _tokens(_spaced(proper)):
            k = syllable_key(tok)
            tok = tok[:1].upper() + tok[1:]  # capitals are reported on their own
            spellings[k][tok].append(r.code)
            per_district[district][k][tok].append(r.code)
    notes = []
    for forms in spellings.values():
        if len(forms) > 1:
            parts = "; ".join(
                f"'{tok}' ({_codes(codes)})" for tok, codes in sorted(forms.items(), key=lambda kv: -len(kv[1]))
            )
            notes.append(
                f"Cùng một âm tiết viết nhiều cách trong phụ lục: {parts}. Giữ nguyên; tìm kiếm không phân biệt."
            )
    for district, keys in per_district.items():
        for forms in keys.values():
            if len(forms) > 1:
                parts = " và ".join(f"'{tok}' ({_codes(codes)})" for tok, codes in forms.items())
                notes.append(f"Trong {annex.label(district)} phụ lục viết lẫn {parts}.")
    return notes


def _tone_placement(annex: _Annex) -> list[str]:
    """Old (hòa, thủy) and new (hoà, thuỷ) tone placement in one document."""
    styles: dict[str, dict[str, list[str]]] = {"old": defaultdict(list), "new": defaultdict(list)}
    for r in annex.rows:
        for tok in _tokens(r.source_name):
            pos = _tone_position(tok)
            if pos:
                styles[pos][tok.lower()].append(r.code)
    if not (styles["old"] and styles["new"]):
        return []
    count = {k: sum(len(c) for c in v.values()) for k, v in styles.items()}
    few, many = ("new", "old") if count["new"] <= count["old"] else ("old", "new")
    name = {"old": "kiểu cũ (hòa, thủy)", "new": "kiểu mới (hoà, thuỷ)"}
    listed = ", ".join(f"'{t}' ({_codes(c, 4)})" for t, c in styles[few].items())
    return [
        f"Vị trí dấu thanh không thống nhất: {listed} đặt dấu {name[few]}, còn lại phụ lục "
        f"đặt dấu {name[many]}: {', '.join(repr(t) for t in styles[many])}. "
        "Giữ nguyên; tìm kiếm không phân biệt."
    ]


def _row_spelling(annex: _Annex) -> list[str]:
    """Per-row oddities of the source spelling, with the display name chosen for the row."""
    reasons: dict[str, list[str]] = defaultdict(list)
    apostrophe_case: dict[str, list[str]] = {"upper": [], "lower": []}
    for r in annex.place_names():
        toks = split_kind_word(r.source_name)[1].split()
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
    notes = []
    if apostrophe_case["upper"] and apostrophe_case["lower"]:
        notes.append(
            "Chữ sau dấu nháy viết hoa không thống nhất: "
            + ", ".join(apostrophe_case["upper"])
            + " so với "
            + ", ".join(apostrophe_case["lower"])
            + "."
        )
    for r in annex.rows:
        if r.name != _mechanical_name(r) and not reasons.get(r.code):
            reasons[r.code].append("tên hiển thị khác nguyên văn")
    for code in sorted(reasons, key=lambda c: annex.by_code[c].annex_no or 0):
        r = annex.by_code[code]
        shown = f" → hiển thị '{r.name}'" if r.name != r.source_name else ""
        notes.append(f"{code} nguyên văn '{r.source_name}'{shown}: {'; '.join(dict.fromkeys(reasons[code]))}.")
    return notes


def _format_change(annex: _Annex) -> list[str]:
    """The annex drops the 'Ủy ban nhân dân' prefix part-way."""
    bare = [r for r in annex.communes if not r.source_name.startswith("Ủy ban nhân dân")]
    if not bare or len(bare) == len(annex.communes):
        return []
    first = min(bare, key=lambda r: r.annex_no or 0)
    return [
        f"Từ TT {first.annex_no} ({annex.by_code[first.parent_code].name}) phụ lục bỏ tiền tố 'Ủy ban nhân dân' "
        f"({len(bare)} dòng: {_codes([r.code for r in bare], 3)}); các dòng trước đều có."
    ]


def _known_notes(annex: _Annex) -> list[str]:
    notes = []
    for code, (spelling, note) in KNOWN_NOTES.items():
        r = annex.by_code.get(code)
        if r and r.source_name == spelling:
            notes.append(f"{code} '{r.source_name}': {note}.")
    return notes


def analyse_units(rows: list[UnitRow], totals: list[dict[str, str]] | None = None) -> list[str]:
    """Readable notes on oddities of the annex, computed from the rows (and the counts the annex states)."""
    annex = _Annex(rows)
    return [
        *_stated_counts(annex, totals or []),
        *_numbering(annex),
        *_same_name_in_several_districts(annex),
        *_town_named_after_another_district(annex),
        *_syllable_spellings(annex),
        *_tone_placement(annex),
        *_row_spelling(annex),
        *_format_change(annex),
        *_known_notes(annex),
    ]
