"""The Kon Tum seed: the annex of Quyết định 474 exactly, the five templates, deadlines, demo data, idempotence."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest
import pytest_asyncio
from tortoise import connections

from seed.anomalies import analyse_units, syllable_key
from seed.load import load_seed
from seed.read import DATA, read_annex_totals, read_templates, read_units, validate_template
from server.models import (
    ITEM_TYPES,
    Deadline,
    Template,
    TemplateItem,
    Unit,
    UnitHistory,
    User,
)
from server.textfold import fold_diacritics

try:  # tests/ may or may not be a package
    from .conftest import ALL_TABLES, wipe
except ImportError:
    from conftest import ALL_TABLES, wipe

PASSWORD = "seed-test-pass"
ANNEX_DISTRICT_COUNTS = {  # as printed in the annex, section IV
    "KT-036": 21,
    "KT-037": 12,
    "KT-038": 8,
    "KT-039": 8,
    "KT-040": 12,
    "KT-041": 11,
    "KT-042": 9,
    "KT-043": 7,
    "KT-044": 11,
    "KT-045": 3,
}


async def _empty() -> None:
    conn = connections.get("default")
    if conn.capabilities.dialect == "sqlite":
        # unit.parent is ON DELETE RESTRICT, which SQLite enforces row by row: cut the tree first
        await conn.execute_script('UPDATE "unit" SET "parent_id" = NULL, "merged_into_id" = NULL')
    await wipe(ALL_TABLES)


@pytest_asyncio.fixture
async def db(orm):
    """conftest's `db` (an empty database with the schema), able to empty a seeded unit tree on SQLite."""
    await _empty()
    yield connections.get("default")
    await _empty()


async def _snapshot() -> dict:
    """Everything a re-seed could touch, to compare before and after."""
    return {
        "units": [tuple(r.values()) for r in await Unit.all().order_by("id").values()],
        "history": await UnitHistory.all().count(),
        "templates": [tuple(r.values()) for r in await Template.all().order_by("id").values()],
        "items": [tuple(r.values()) for r in await TemplateItem.all().order_by("id").values()],
        "deadlines": [tuple(r.values()) for r in await Deadline.all().order_by("id").values()],
        "users": [tuple(r.values()) for r in await User.all().order_by("id").values()],
    }


# ------------------------------------------------------------------------------------------------ units


async def test_seed_creates_the_province_and_the_147_agencies_of_the_annex(db):
    report = await load_seed()
    assert report.units_created == 148
    province = await Unit.get(code="KT")
    assert (province.kind, province.level, province.parent_id, province.annex_no) == ("province", 0, None, None)
    assert province.name == "Tỉnh Kon Tum"
    assert await Unit.filter(level=1).count() == 45
    assert await Unit.filter(level=1, kind__in=["department", "agency"]).count() == 35
    assert await Unit.filter(level=1, kind="department").count() == 20
    assert await Unit.filter(level=1, kind="agency").count() == 15
    assert await Unit.filter(level=1, kind="district").count() == 10
    assert await Unit.filter(level=2).count() == 102
    assert await Unit.filter(level=2, kind__not_in=["commune", "ward", "town"]).count() == 0
    assert await Unit.filter(level=1).exclude(parent_id=province.id).count() == 0
    numbers = sorted(await Unit.exclude(annex_no=None).values_list("annex_no", flat=True))
    assert numbers == list(range(1, 148))


async def test_each_district_has_the_number_of_communes_the_annex_states(db):
    await load_seed()
    for code, stated in ANNEX_DISTRICT_COUNTS.items():
        district = await Unit.get(code=code)
        assert district.kind == "district"
        assert await Unit.filter(parent_id=district.id).count() == stated, district.name
    assert sum(ANNEX_DISTRICT_COUNTS.values()) == 102


async def test_target_years_follow_the_roadmap(db):
    await load_seed()
    years = Counter(await Unit.exclude(annex_no=None).values_list("target_year", flat=True))
    assert years == {2025: 35, 2027: 10, 2030: 102}
    assert set(await Unit.filter(kind="district").values_list("target_year", flat=True)) == {2027}
    assert set(await Unit.filter(level=2).values_list("target_year", flat=True)) == {2030}
    assert (await Unit.get(code="KT")).target_year is None


async def test_codes_are_the_annex_row_numbers(db):
    await load_seed()
    for unit in await Unit.exclude(code="KT"):
        assert unit.code == f"KT-{unit.annex_no:03d}"
    assert (await Unit.get(code="KT-001")).source_name == "Văn phòng Ủy ban nhân dân tỉnh"
    assert (await Unit.get(code="KT-147")).source_name == "Xã Ia Tơi"


async def test_source_names_keep_the_annex_spelling_and_display_names_are_clean(db):
    await load_seed()
    expected = {
        "KT-003": ("Sở Tư pháp", "Sở Tư pháp", "department"),
        "KT-027": ("Chi cục Tiêu chuẩn Đo lường Chất lượng", "Chi cục Tiêu chuẩn Đo lường Chất lượng", "agency"),
        "KT-037": ("Ủy ban nhân dân huyện Đăk Glei", "UBND huyện Đăk Glei", "district"),
        "KT-045": ("Ủy ban nhân dân huyện Ia H\u2019Drai", "UBND huyện Ia H'Drai", "district"),
        "KT-046": ("Ủy ban nhân dân phường Quyết Thắng", "Phường Quyết Thắng", "ward"),
        "KT-055": ("Ủy ban nhân dân phường và Duy Tân", "Phường Duy Tân", "ward"),
        "KT-066": ("Ủy ban nhân dân xã ĐăkRơWa", "Xã Đăk Rơ Wa", "commune"),
        "KT-079": ("Ủy ban nhân dân thị trấn Plei Kần", "Thị trấn Plei Kần", "town"),
        "KT-095": ("Ủy ban nhân dân thị trấn Đắk Hà", "Thị trấn Đắk Hà", "town"),
        "KT-107": ("Ủy ban nhân dân thị trấn Đăk Hà", "Thị trấn Đăk Hà", "town"),
        "KT-118": ("Xã Đắk Long", "Xã Đắk Long", "commune"),
        "KT-142": ("Xã Hơ moong", "Xã Hơ Moong", "commune"),
        "KT-143": ("Xã Ya tăng", "Xã Ya Tăng", "commune"),
        "KT-147": ("Xã Ia Tơi", "Xã Ia Tơi", "commune"),
    }
    for code, (source, name, kind) in expected.items():
        unit = await Unit.get(code=code)
        assert (unit.source_name, unit.name, unit.kind) == (source, name, kind), code


async def test_communes_hang_under_their_district(db):
    await load_seed()
    ia_toi = await Unit.get(code="KT-147").prefetch_related("parent")
    assert ia_toi.parent.code == "KT-045" and ia_toi.parent.name == "UBND huyện Ia H'Drai"
    tu_mo_rong = await Unit.get(name="Xã Tu Mơ Rông").prefetch_related("parent")
    assert tu_mo_rong.parent.code == "KT-040"
    # the odd "thị trấn Đắk Hà" stays where the annex put it, under Tu Mơ Rông
    odd = await Unit.get(code="KT-095").prefetch_related("parent")
    assert odd.parent.code == "KT-040"
    assert all(u.level == 2 for u in await Unit.filter(parent__code="KT-036"))


async def test_folded_names_find_units_without_diacritics(db):
    await load_seed()

    async def search(q: str) -> set[str]:
        qs = Unit.all()
        for word in fold_diacritics(q).split():
            qs = qs.filter(name_folded__contains=word)
        return set(await qs.values_list("code", flat=True))

    assert await search("dak kan") == {"KT-086", "KT-103"}  # Đăk Kan, and Đắk Tờ Kan
    assert await search("ia h'drai") >= {"KT-045"}
    assert await search("ia h\u2019drai") == await search("ia h'drai")
    assert await search("dakrowa") == {"KT-066"}  # the source spelling
    assert await search("dak ro wa") == {"KT-066"}  # the display name
    assert await search("ĐẮK LONG") == {"KT-077", "KT-116", "KT-118"}
    assert await search("ia toi") == {"KT-147"}


# ------------------------------------------------------------------------------------------ idempotence


async def test_seeding_twice_changes_nothing(db):
    first = await load_seed(demo=True, demo_password=PASSWORD)
    assert first.changed
    before = await _snapshot()
    second = await load_seed(demo=True, demo_password=PASSWORD)
    after = await _snapshot()
    assert after == before  # same rows, same updated_at, same history count
    assert not second.changed
    assert (
        second.units_created,
        second.units_updated,
        second.templates_created,
        second.items_created,
        second.deadlines_created,
        second.users_created,
    ) == (0, 0, 0, 0, 0, 0)
    assert second.anomalies == first.anomalies


async def test_a_changed_name_or_parent_in_the_data_is_recorded_in_history(db, monkeypatch):
    await load_seed()
    unit = await Unit.get(code="KT-096")
    updated_at = unit.updated_at
    rows = read_units()
    changed = []
    for r in rows:
        if r.code == "KT-096":  # say the data is corrected: Đăk Trăm moves to Đăk Tô
            r = type(r)(**{**r.__dict__, "parent_code": "KT-039", "name": "Xã Đắk Trăm"})
        changed.append(r)
    monkeypatch.setattr("seed.load.read_units", lambda: changed)
    report = await load_seed()
    assert report.units_updated == 1 and report.units_created == 0
    unit = await Unit.get(code="KT-096").prefetch_related("parent")
    assert unit.parent.code == "KT-039" and unit.name == "Xã Đắk Trăm" and unit.level == 2
    assert unit.updated_at > updated_at
    history = {h.change: h for h in await UnitHistory.filter(unit_id=unit.id)}
    assert set(history) == {"create", "rename", "move"}
    assert history["rename"].old == {"name": "Xã Đăk Trăm"} and history["rename"].new == {"name": "Xã Đắk Trăm"}
    assert history["move"].old["parent_code"] == "KT-040" and history["move"].new["parent_code"] == "KT-039"
    assert "dak tram" in unit.name_folded
    # and running the corrected data again changes nothing more
    again = await load_seed()
    assert not again.changed
    assert await UnitHistory.filter(unit_id=unit.id).count() == 3


async def test_a_rename_made_in_the_app_survives_a_reseed(db):
    await load_seed()
    unit = await Unit.get(code="KT-147")
    unit.name = "Xã Ia Tơi (mới)"
    await unit.save()
    report = await load_seed()
    assert (await Unit.get(code="KT-147")).name == "Xã Ia Tơi (mới)"
    assert report.units_updated == 1  # only its folded search name is refreshed
    assert any("KT-147" in a and "giữ giá trị hiện tại" in a for a in report.anomalies)


async def test_every_unit_has_a_create_history_row(db):
    await load_seed()
    assert await UnitHistory.filter(change="create").count() == 148
    row = await UnitHistory.get(change="create", unit__code="KT-055")
    assert row.new["source_name"] == "Ủy ban nhân dân phường và Duy Tân"
    assert row.by_username == "seed"


# ------------------------------------------------------------------------------------------- anomalies


def _anomalies() -> list[str]:
    return analyse_units(read_units(), read_annex_totals())


async def test_anomalies_of_the_annex_are_reported_not_corrected(db):
    report = await load_seed()
    text = "\n".join(report.anomalies)
    # the same commune name in three districts, spelled Đăk and Đắk
    assert any("KT-077" in a and "KT-116" in a and "KT-118" in a for a in report.anomalies)
    # Đăk/Đắk and Ngọc/Ngọk spelling variants
    assert any("'Đăk'" in a and "'Đắk'" in a for a in report.anomalies)
    assert any("'Ngọc'" in a and "'Ngọk'" in a for a in report.anomalies)
    # mixed spelling inside Tu Mơ Rông
    assert any(a.startswith("Trong UBND huyện Tu Mơ Rông") for a in report.anomalies)
    # thị trấn Đắk Hà listed under Tu Mơ Rông although Đăk Hà is another district with its own town
    assert any(a.startswith("KT-095") and "KT-041" in a and "KT-107" in a for a in report.anomalies)
    # stray "và", run-together syllables, lower-case syllables
    assert "KT-055 nguyên văn 'Ủy ban nhân dân phường và Duy Tân'" in text and "từ thừa 'và'" in text
    assert "'ĐăkRơWa' viết liền không cách" in text
    assert "âm tiết 'moong' viết thường" in text and "âm tiết 'tăng' viết thường" in text
    assert "H\u2019Drai" in text and "H\u2019reng" in text
    # the annex changes format from Kon Plông on
    assert any("Từ TT 118" in a for a in report.anomalies)
    # the stated counts agree with the listed rows, so nothing is reported about counts
    assert not any(a.startswith("Số lượng không khớp") for a in report.anomalies)
    # nothing was "fixed" in the data
    assert (await Unit.get(code="KT-095")).kind == "town"
    assert (await Unit.get(code="KT-142")).source_name == "Xã Hơ moong"


def test_count_mismatches_would_be_reported():
    totals = read_annex_totals()
    for t in totals:
        if t["key"] == "KT-040":
            t["stated"] = "11"
    notes = analyse_units(read_units(), totals)
    assert any(n.startswith("Số lượng không khớp") and "Tu Mơ Rông" in n for n in notes)


def test_spelling_key_groups_variants_but_not_distinct_names():
    assert syllable_key("Đăk") == syllable_key("Đắk")
    assert syllable_key("Ngọc") == syllable_key("Ngọk")
    assert syllable_key("Tơ") != syllable_key("Tờ")
    assert syllable_key("Tô") != syllable_key("Tơ")
    assert syllable_key("Kan") != syllable_key("Kần")


# ------------------------------------------------------------------------------------------- templates


async def test_the_five_templates_exist_with_their_period(db):
    report = await load_seed()
    assert report.templates_created == 5
    kinds = {t.code: t.period_kind for t in await Template.all()}
    assert kinds == {
        "conversion": "once",
        "rollout": "once",
        "self_assessment": "year",
        "monthly_report": "month",
        "annual_report": "year",
    }
    assert report.items_created == await TemplateItem.all().count()
    for t in await Template.all():
        assert t.version == 1 and t.title and t.legal_basis
        n = await TemplateItem.filter(template_id=t.id).count()
        assert 10 <= n <= 60, (t.code, n)


async def test_every_item_has_a_reference_a_valid_type_and_a_stable_key(db):
    await load_seed()
    for item in await TemplateItem.all():
        assert item.reference.strip(), item.key
        assert item.type in ITEM_TYPES
        assert item.key.isascii() and item.key == item.key.lower()
    for data in read_templates():
        assert [i["key"] for i in data["items"]] == [
            i.key for i in await TemplateItem.filter(template__code=data["code"]).order_by("position")
        ]
        types = {i["type"] for i in data["items"]}
        assert "choice" in types and len(types) >= 3, data["code"]


def test_self_assessment_covers_every_clause_from_4_1_to_10_3():
    clauses = [
        "4.1",
        "4.2",
        "4.3",
        "4.4",
        "5.1.1",
        "5.1.2",
        "5.2.1",
        "5.2.2",
        "5.3",
        "6.1",
        "6.2",
        "6.3",
        "7.1.1",
        "7.1.2",
        "7.1.3",
        "7.1.4",
        "7.1.5",
        "7.1.6",
        "7.2",
        "7.3",
        "7.4",
        "7.5.1",
        "7.5.2",
        "7.5.3",
        "8.1",
        "8.2",
        "8.3",
        "8.4",
        "8.5",
        "8.6",
        "8.7",
        "9.1.1",
        "9.1.2",
        "9.1.3",
        "9.2",
        "9.3",
        "10.1",
        "10.2",
        "10.3",
    ]
    data = json.loads((DATA / "templates" / "self_assessment.json").read_text(encoding="utf-8"))
    refs = [i["reference"] for i in data["items"]]
    for clause in clauses:
        assert any(f"TCVN ISO 9001:2015, điều {clause} " in r for r in refs), clause
    design = next(i for i in data["items"] if i["key"] == "c8_3_design")
    assert design["type"] == "choice" and "Không áp dụng" in design["label"]  # "na" is a choice value
    assert any(i["key"] == "c8_3_na_reason" and i["type"] == "text" for i in data["items"])
    assert "Thiết kế và phát triển sản phẩm và dịch vụ" in design["reference"]


def test_rollout_quotes_the_twelve_steps_of_section_III_2():
    data = json.loads((DATA / "templates" / "rollout.json").read_text(encoding="utf-8"))
    steps = {i["section"].split(".")[0] for i in data["items"] if i["section"].startswith("Bước")}
    assert steps == {f"Bước {n}" for n in range(1, 13)}
    assert all("mục III.2" in i["reference"] for i in data["items"] if i["section"].startswith("Bước"))
    assert any("«Đào tạo đội ngũ chuyên gia đánh giá nội bộ.»" in i["reference"] for i in data["items"])


def test_a_template_with_a_bad_item_is_refused():
    data = json.loads((DATA / "templates" / "monthly_report.json").read_text(encoding="utf-8"))
    data["items"][0]["type"] = "yesno"
    with pytest.raises(ValueError, match="type"):
        validate_template(data)
    data["items"][0]["type"] = "choice"
    data["items"][1]["reference"] = " "
    with pytest.raises(ValueError, match="reference"):
        validate_template(data)


# ------------------------------------------------------------------------------------------- deadlines


async def test_deadlines_for_reports_and_roadmap_milestones(db):
    await load_seed()
    # The monthly and 30-June rules come from Huế's and An Giang's documents: kept, not binding Kon Tum,
    # due on the last day allowed ("trước ngày 22" is the 21st).
    monthly = await Deadline.get(code="HUE-MONTHLY-REPORT").prefetch_related("template", "unit")
    assert (monthly.recurrence, monthly.template.code, monthly.unit.code, monthly.level, monthly.binding) == (
        "monthly:21",
        "monthly_report",
        "KT",
        None,
        False,
    )
    annual = await Deadline.get(code="AG-ANNUAL-REPORT").prefetch_related("template")
    assert (annual.recurrence, annual.template.code, annual.period_offset, annual.binding) == (
        "yearly:06-29",
        "annual_report",
        -1,
        False,
    )
    kon_tum = await Deadline.get(code="KT-ANNUAL-REPORT")
    assert (kon_tum.binding, kon_tum.source_number, kon_tum.recurrence, kon_tum.due_date) == (
        True,
        "474/QĐ-UBND",
        "",
        None,
    )
    communes = await Deadline.get(code="KT-ROADMAP-2030").prefetch_related("unit")
    assert (communes.due_date, communes.unit.code, communes.level) == (date(2030, 12, 31), "KT", 2)
    # level 1 mixes 2025 agencies and 2027 districts, so their milestones are per unit
    for unit in await Unit.filter(level=1):
        d = await Deadline.get(code=f"KT-ROADMAP-{unit.target_year}-{unit.code}")
        assert d.unit_id == unit.id and d.level == 1 and d.due_date == date(unit.target_year, 12, 31)
    assert await Deadline.filter(due_date=date(2025, 12, 31)).count() == 35
    assert await Deadline.filter(due_date=date(2027, 12, 31)).count() == 10


# ------------------------------------------------------------------------------------------------ demo


async def test_demo_users_are_created_once_with_their_roles_and_units(db):
    from server.auth import verify_password

    report = await load_seed(demo=True)
    assert report.users_created == 5 and report.demo_password
    users = {u.username: u for u in await User.all().prefetch_related("unit")}
    assert {n: (u.role, u.unit.code) for n, u in users.items()} == {
        "admin": ("admin", "KT"),
        "huyen.iahdrai": ("reviewer", "KT-045"),
        "huyen.tumorong": ("reviewer", "KT-040"),
        "xa.iatoi": ("official", "KT-147"),
        "xa.tumorong": ("official", "KT-097"),
    }
    assert all(u.full_name for u in users.values())
    assert verify_password(users["xa.iatoi"].password_hash, report.demo_password)
    assert len(report.logins) == 5
    # a re-seed with another password leaves the accounts alone
    again = await load_seed(demo=True, demo_password="another-one")
    assert again.users_created == 0 and again.demo_password is None
    assert verify_password((await User.get(username="xa.iatoi")).password_hash, report.demo_password)


async def test_demo_progress_is_only_what_the_ngoc_hoi_report_says(db):
    await load_seed(demo=True, demo_password=PASSWORD)
    statuses = {u.name: u for u in await Unit.exclude(qms_status="none")}
    assert {n: u.qms_status for n, u in statuses.items()} == {
        "Xã Đăk Kan": "iso2015",
        "Xã Sa Loong": "iso2015",
        "Xã Đăk Xú": "iso2015",
        "Xã Đăk Dục": "iso2015",
        "Xã Đăk Ang": "iso2015",
        "Xã Đăk Nông": "converting",
        "Xã Pờ Y": "converting",
        "Thị trấn Plei Kần": "converting",
    }
    for u in statuses.values():
        assert u.qms_status_date.year == 2020 and "Ngọc Hồi" in u.qms_note
        assert (await Unit.get(id=u.parent_id)).code == "KT-038"
    assert await UnitHistory.filter(change="status").count() == 8


async def test_without_demo_there_are_no_users_and_no_statuses(db):
    report = await load_seed(progress=lambda *a: None)
    assert report.users_created == 0 and report.logins == []
    assert await User.all().count() == 0
    assert await Unit.exclude(qms_status="none").count() == 0


async def test_progress_is_reported_per_stage(db):
    calls: list[tuple[str, int, int]] = []
    await load_seed(demo=True, demo_password=PASSWORD, progress=lambda s, d, t: calls.append((s, d, t)))
    finals = {s: (d, t) for s, d, t in calls}
    assert finals["Đơn vị"] == (148, 148)
    assert finals["Mẫu phiếu"] == (5, 5)
    assert finals["Hạn báo cáo"][0] == finals["Hạn báo cáo"][1]
    assert finals["Dữ liệu demo"][0] == finals["Dữ liệu demo"][1]
