"""The registers: announcement decisions read from approved checklists (the latest approved wins, and it
is named), the procedures units keep, search ignoring diacritics, and who may read and change what."""

from __future__ import annotations

from server.catalogue import PROBLEMS
from server.models import AuditLog, Procedure

from .conftest import unit_id
from .registers_world import build_world


def codes(body: dict) -> list[str]:
    return [a["unit"]["code"] for a in body["announcements"]]


async def test_the_province_sees_every_approved_decision_and_where_it_comes_from(login):
    world = await build_world()
    admin = await login("admin")
    r = await admin.get("/api/registers/announcements")
    assert r.status_code == 200
    body = r.json()
    assert codes(body) == ["KT-086", "KT-103", "KT-147"]  # tree order; KT-097's is only submitted
    assert body["units_in_scope"] > 140
    dakkan, dakto, iatoi = body["announcements"]
    assert dakkan["number"] == "12/QĐ-UBND" and dakkan["date"] == "2026-03-15"
    assert dakkan["unit"]["name"] == "Xã Đăk Kan" and dakkan["unit"]["parent"] == "UBND huyện Ngọc Hồi"
    assert dakkan["files"] == [{"name": "qd-cong-bo.jpg", "sha256": "ab" * 32, "url": "/api/evidence/" + "ab" * 32}]
    assert dakkan["tthc_in_system"] == 87 and "Hệ thống ISO điện tử" in dakkan["scope"]
    assert dakkan["source"]["checklist_id"] == world["dakkan"].id and dakkan["source"]["template"] == "rollout"
    # Two approved checklists of Ia Tơi record a decision: the later approved (the annual report) wins.
    assert iatoi["number"] == "30/QĐ-UBND" and iatoi["source"]["checklist_id"] == world["iatoi_new"].id
    assert iatoi["source"]["period"] == "2025" and iatoi["source"]["approved_by"] == "huyen.iahdrai"
    # A self-assessment gives a date and no number.
    assert dakto["number"] == "" and dakto["date"] == "2026-01-20" and dakto["source"]["template"] == "self_assessment"


async def test_search_ignores_diacritics(login):
    await build_world()
    admin = await login("admin")
    found = (await admin.get("/api/registers/announcements", params={"q": "dak kan"})).json()
    assert codes(found) == ["KT-086", "KT-103"]  # Xã Đăk Kan and Xã Đắk Tờ Kan
    assert codes((await admin.get("/api/registers/announcements", params={"q": "ĐĂK KAN"})).json()) == codes(found)
    assert codes((await admin.get("/api/registers/announcements", params={"q": "ngoc hoi"})).json()) == ["KT-086"]
    assert codes((await admin.get("/api/registers/announcements", params={"q": "30/qđ"})).json()) == ["KT-147"]
    assert codes((await admin.get("/api/registers/announcements", params={"q": "an kan"})).json()) == []
    page = (await admin.get("/registers/announcements", params={"q": "dak kan"})).text
    assert "Xã Đăk Kan" in page and "Xã Ia Tơi" not in page and "12/QĐ-UBND" in page and "15/03/2026" in page


async def test_a_district_reviewer_and_an_official_see_their_subtree_only(login):
    await build_world()
    iahdrai = await login("huyen.iahdrai")
    assert codes((await iahdrai.get("/api/registers/announcements")).json()) == ["KT-147"]
    tumorong = await login("huyen.tumorong")
    assert codes((await tumorong.get("/api/registers/announcements")).json()) == ["KT-103"]
    xa = await login("xa.tumorong")
    body = (await xa.get("/api/registers/announcements")).json()
    assert codes(body) == [] and body["units_in_scope"] == 1
    page = (await tumorong.get("/registers/announcements")).text
    assert "Xã Đắk Tờ Kan" in page and "Xã Đăk Kan" not in page


async def test_procedures_are_kept_by_the_unit_and_searched_ignoring_diacritics(login):
    xa = await login("xa.iatoi")
    iatoi = await unit_id("KT-147")
    r = await xa.post(
        "/api/registers/procedures",
        json={
            "unit_id": iatoi,
            "name": "Đăng ký khai sinh",
            "code": "1.001193",
            "field": "Hộ tịch",
            "in_system_on": "2026-02-01",
        },
    )
    assert r.status_code == 201, r.text
    first = r.json()
    assert (
        first["unit"]["code"] == "KT-147"
        and first["in_system_on"] == "2026-02-01"
        and first["created_by"] == "xa.iatoi"
    )
    await xa.post("/api/registers/procedures", json={"unit_id": iatoi, "name": "Chứng thực bản sao từ bản chính"})
    # The same code twice in one unit, an empty name, a bad date: refused with the catalogue's words.
    r = await xa.post("/api/registers/procedures", json={"unit_id": iatoi, "name": "Khác", "code": "1.001193"})
    assert r.status_code == 409 and "1.001193" in r.json()["message"]
    r = await xa.post("/api/registers/procedures", json={"unit_id": iatoi, "name": "  "})
    assert r.status_code == 422 and r.json()["message"] == PROBLEMS["procedure_name_missing"][2]
    r = await xa.post("/api/registers/procedures", json={"unit_id": iatoi, "name": "X", "in_system_on": "31/02/2026"})
    assert r.status_code == 422 and r.json()["field"] == "in_system_on"
    r = await xa.post("/api/registers/procedures", json={"unit_id": iatoi, "name": "X", "extra": 1})
    assert r.status_code == 422

    admin = await login("admin")
    names = lambda r: [p["name"] for p in r.json()["procedures"]]  # noqa: E731
    assert names(await admin.get("/api/registers/procedures", params={"q": "khai sinh"})) == ["Đăng ký khai sinh"]
    assert names(await admin.get("/api/registers/procedures", params={"q": "ho tich"})) == ["Đăng ký khai sinh"]
    assert names(await admin.get("/api/registers/procedures", params={"q": "ia toi chung thuc"})) == [
        "Chứng thực bản sao từ bản chính"
    ]
    assert len(names(await admin.get("/api/registers/procedures", params={"unit_id": iatoi}))) == 2

    # Removed: off the list, but the row stays with who removed it, and both changes are audited.
    r = await xa.delete(f"/api/registers/procedures/{first['id']}")
    assert r.status_code == 200
    assert names(await admin.get("/api/registers/procedures", params={"q": "khai sinh"})) == []
    kept = await Procedure.get(id=first["id"])
    assert kept.removed_by == "xa.iatoi" and kept.removed_at is not None
    actions = await AuditLog.filter(object_type="procedure").values_list("action", flat=True)
    assert sorted(actions) == ["procedure.add", "procedure.add", "procedure.remove"]
    assert (await xa.delete(f"/api/registers/procedures/{first['id']}")).status_code == 404


async def test_who_may_change_the_procedures_of_which_unit(login, sessions):
    from server.auth import hash_password
    from server.models import Unit, User

    await User.get_or_create(
        username="viewer.reg",
        defaults={"role": "viewer", "unit": await Unit.get(code="KT"), "password_hash": hash_password("viewer-pass-1")},
    )
    iatoi, tumorong = await unit_id("KT-147"), await unit_id("KT-097")
    try:
        viewer = await sessions("viewer.reg", "viewer-pass-1")
        xa, other = await login("xa.iatoi"), await login("xa.tumorong")
        reviewer, admin = await login("huyen.iahdrai"), await login("admin")
        add = lambda c, uid: c.post("/api/registers/procedures", json={"unit_id": uid, "name": "Thủ tục A"})  # noqa: E731
        assert (await add(xa, tumorong)).status_code == 404  # another unit: as if it did not exist
        assert (await add(reviewer, iatoi)).status_code == 403  # a reviewer reads, the unit keeps its list
        assert (await add(viewer, iatoi)).status_code == 403
        made = (await add(admin, iatoi)).json()
        assert made["created_by"] == "admin"
        assert (await other.delete(f"/api/registers/procedures/{made['id']}")).status_code == 404
        assert (await reviewer.delete(f"/api/registers/procedures/{made['id']}")).status_code == 403
        assert (await other.get("/api/registers/procedures", params={"unit_id": iatoi})).status_code == 404
        assert (await other.get("/api/registers/procedures")).json()["procedures"] == []
        assert len((await reviewer.get("/api/registers/procedures")).json()["procedures"]) == 1
        assert len((await viewer.get("/api/registers/procedures")).json()["procedures"]) == 1
        assert (await xa.delete("/api/registers/procedures/abc")).status_code == 422
        assert (await xa.delete(f"/api/registers/procedures/{made['id']}")).status_code == 200
    finally:
        await User.filter(username="viewer.reg").delete()


async def test_anonymous_callers_are_refused_everywhere(anon, seeded):
    for path in ("/api/registers/announcements", "/api/registers/procedures"):
        assert (await anon.get(path)).status_code == 401
    assert (await anon.post("/api/registers/procedures", json={"unit_id": 1, "name": "x"})).status_code == 401
    assert (await anon.delete("/api/registers/procedures/1")).status_code == 401
    for path in ("/registers", "/registers/announcements", "/registers/procedures"):
        r = await anon.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = await anon.post("/registers/procedures", data={"unit_id": "1", "name": "x"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def test_the_procedures_page_adds_removes_and_explains_a_refusal(login):
    xa = await login("xa.iatoi")
    iatoi = await unit_id("KT-147")
    r = await xa.post(
        "/registers/procedures", data={"unit_id": str(iatoi), "name": "Đăng ký kết hôn", "in_system_on": "01/03/2026"}
    )
    assert r.status_code == 303 and r.headers["location"] == f"/registers/procedures?unit_id={iatoi}&done=added"
    page = (await xa.get(r.headers["location"])).text
    assert "Đăng ký kết hôn" in page and "01/03/2026" in page and "Đã thêm thủ tục vào sổ." in page
    r = await xa.post("/registers/procedures", data={"unit_id": str(iatoi), "name": "", "code": "1.2"})
    assert r.status_code == 422 and PROBLEMS["procedure_name_missing"][2] in r.text
    assert 'value="1.2"' in r.text  # what was typed stays on the form
    r = await xa.post("/registers/procedures", data={"unit_id": str(await unit_id("KT-097")), "name": "X"})
    assert r.status_code == 404
    p = await Procedure.get(name="Đăng ký kết hôn")
    reviewer = await login("huyen.iahdrai")
    page = (await reviewer.get("/registers/procedures")).text
    assert "Đăng ký kết hôn" in page and "Bỏ khỏi sổ" not in page and "Thêm vào sổ" not in page
    assert (await reviewer.post(f"/registers/procedures/{p.id}/remove")).status_code == 403
    r = await xa.post(f"/registers/procedures/{p.id}/remove")
    assert r.status_code == 303 and "done=removed" in r.headers["location"]
    assert (await xa.post(f"/registers/procedures/{p.id}/remove")).status_code == 404
    assert (await xa.post("/registers/procedures/zz/remove")).status_code == 404
