"""The administration pages' forms end to end (issue 16): a unit made, renamed and merged from its page;
a new list of units previewed and applied through the preview's own form; an account made with a
temporary password shown once and never cached; a template published from a file."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from seed.load import load_seed
from seed.read import DATA
from server.models import AuditLog, Template, Unit, User

from .conftest import ALL_TABLES, DEMO_PASSWORD, unit_id, wipe


@pytest.fixture
async def restore(seeded):
    yield
    await wipe(ALL_TABLES)
    await load_seed(demo=True, demo_password=DEMO_PASSWORD)


def hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, name
    return unescape(m.group(1))


async def test_a_unit_is_made_renamed_and_merged_from_its_pages(login, restore):
    admin = await login("admin")
    district = await unit_id("KT-045")
    r = await admin.post(
        "/admin/units/new", data={"code": "KT-900", "name": "Xã Ia Mới", "kind": "commune", "parent_id": str(district)}
    )
    assert r.status_code == 303
    made = await Unit.get(code="KT-900")
    page = await admin.get(r.headers["location"])
    assert "Đã tạo đơn vị Xã Ia Mới." in page.text
    r = await admin.post(f"/admin/units/{made.id}/rename", data={"name": "Xã Ia Mới Hơn"})
    assert r.status_code == 303 and (await Unit.get(id=made.id)).name == "Xã Ia Mới Hơn"
    # A refused value comes back on the unit's page with the catalogue's message.
    r = await admin.post(f"/admin/units/{made.id}/rename", data={"name": "  "})
    assert r.status_code == 422 and "Tên đơn vị không được để trống." in r.text
    r = await admin.post(f"/admin/units/{made.id}/merge", data={"into_id": str(await unit_id("KT-147"))})
    assert r.status_code == 303
    page = await admin.get(f"/admin/units/{made.id}")
    assert "Đã ngừng hoạt động" in page.text and "Sáp nhập" in page.text and "Đổi tên" in page.text
    into = await admin.get(f"/admin/units/{await unit_id('KT-147')}")
    assert "Xã Ia Mới Hơn" in into.text  # listed among the units merged into it
    assert [a.action for a in await AuditLog.filter(action__startswith="unit.").order_by("id")] == [
        "unit.create",
        "unit.rename",
        "unit.merge",
    ]


async def test_the_import_is_previewed_then_applied_by_the_previews_form(login, restore):
    admin = await login("admin")
    codes = dict(await Unit.all().values_list("id", "code"))
    lines = ["code,name,kind,parent_code"]
    for u in await Unit.filter(active=True).order_by("level", "id"):
        name = "Xã Ia Tơi mới" if u.code == "KT-147" else u.name
        lines.append(f'{u.code},"{name}",{u.kind},{codes.get(u.parent_id, "")}')  # type: ignore[attr-defined]
    data = ("\n".join(lines) + "\n").encode()
    r = await admin.post("/admin/units/import", files={"file": ("don-vi.csv", data, "text/csv")})
    assert r.status_code == 200 and "Xã Ia Tơi mới" in r.text
    assert (await Unit.get(code="KT-147")).name == "Xã Ia Tơi"
    form = {"data": hidden(r.text, "data"), "digest": hidden(r.text, "digest")}
    r = await admin.post("/admin/units/import/apply", data=form)
    assert r.status_code == 303 and (await Unit.get(code="KT-147")).name == "Xã Ia Tơi mới"
    assert "Đã áp dụng danh sách đơn vị mới." in (await admin.get(r.headers["location"])).text
    # The same preview applied twice: the tree moved on, so it is refused, not applied again.
    r = await admin.post("/admin/units/import/apply", data=form)
    assert r.status_code == 409 and "xem trước lại" in r.text
    # A bad file comes back with its rows named.
    r = await admin.post(
        "/admin/units/import", files={"file": ("x.csv", b"code,name,kind,parent_code\nKT,,x,\n", "text/csv")}
    )
    assert r.status_code == 422 and "Dòng 2" in r.text


async def test_a_new_account_gets_a_temporary_password_shown_once_and_not_cached(login, sessions, restore):
    admin = await login("admin")
    r = await admin.post(
        "/users/new",
        data={
            "username": "xa.iadal",
            "full_name": "Y Hoa",
            "role": "official",
            "unit_id": str(await unit_id("KT-146")),
        },
    )
    assert r.status_code == 200 and "Đã tạo tài khoản xa.iadal." in r.text
    assert r.headers["cache-control"] == "no-store"
    temporary = re.search(r"<code>([^<]+)</code>", r.text).group(1)
    await sessions("xa.iadal", temporary)
    user = await User.get(username="xa.iadal")
    page = await admin.get(f"/users/{user.id}")
    assert temporary not in page.text  # shown once
    r = await admin.post(f"/users/{user.id}/change", data={"role": "reviewer", "unit_id": str(user.unit_id)})  # type: ignore[attr-defined]
    assert r.status_code == 303 and (await User.get(id=user.id)).role == "reviewer"
    r = await admin.post(f"/users/{user.id}/password", data={"password": ""})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store" and "Mật khẩu tạm" in r.text
    r = await admin.post("/users/new", data={"username": "xa.iatoi", "role": "official", "unit_id": str(user.unit_id)})  # type: ignore[attr-defined]
    assert r.status_code == 409 and "đã có người dùng" in r.text


async def test_a_template_is_published_from_its_page(login, restore):
    admin = await login("admin")
    data = json.loads((DATA / "templates" / "conversion.json").read_text(encoding="utf-8"))
    data.pop("version")
    data["title"] = data["title"] + " (2026)"
    r = await admin.post(
        "/admin/templates",
        files={"file": ("mau.json", json.dumps(data, ensure_ascii=False).encode(), "application/json")},
    )
    assert r.status_code == 303
    page = await admin.get(r.headers["location"])
    assert "Đã ban hành mẫu phiếu" in page.text and "(phiên bản 2)" in page.text
    assert [t.version for t in await Template.filter(code="conversion", published=True)] == [2]
