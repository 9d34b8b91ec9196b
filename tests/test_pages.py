"""The server-rendered pages speak the catalogue: status and role labels, periods, problem messages."""

from __future__ import annotations

from markupsafe import escape

from server.catalogue import CHECKLIST_STATUS_LABELS, PROBLEMS, PROGRESS_STATUS_LABELS, ROLE_LABELS
from server.services.checklists import create_checklist

from .conftest import template_id, unit_id


def message(name: str, **values) -> str:
    return str(escape(PROBLEMS[name][2].format(**values)))


async def test_unit_and_checklist_pages_use_the_catalogue_labels(login):
    xa = await login("xa.iatoi")
    uid = await unit_id("KT-147")
    c = await create_checklist(uid, await template_id("monthly_report"), "2026-11", "xa.iatoi")
    page = (await xa.get(f"/units/{uid}")).text
    assert CHECKLIST_STATUS_LABELS["draft"] in page and "Tháng 11/2026" in page
    assert ROLE_LABELS["official"] in page
    assert PROGRESS_STATUS_LABELS["not_started"] in page  # derived from approved checklists (issue 16)
    page = (await xa.get(f"/checklists/{c.id}")).text
    assert f"Tháng 11/2026 · {CHECKLIST_STATUS_LABELS['draft']}" in page


async def test_pages_answer_problems_with_the_catalogue_message(login):
    xa = await login("xa.iatoi")
    for path in (f"/units/{await unit_id('KT-097')}", "/units/abc"):
        r = await xa.get(path)
        assert r.status_code == 404 and message("unit_not_found") in r.text
    r = await xa.get("/checklists/khong-co")
    assert r.status_code == 404 and message("checklist_not_found") in r.text


async def test_the_create_form_explains_a_refusal_on_the_unit_page(login):
    xa = await login("xa.iatoi")
    uid, tid = await unit_id("KT-147"), await template_id("annual_report")
    r = await xa.post(f"/units/{uid}/checklists", data={"template_id": str(tid), "period": "2026-11"})
    assert r.status_code == 422 and message("period_invalid", period="2026-11", example="2026") in r.text
    r = await xa.post(f"/units/{uid}/checklists", data={"period": "2026"})
    assert r.status_code == 422 and message("period_missing") in r.text
    r = await xa.post(f"/units/{uid}/checklists", data={"template_id": "999999", "period": "2026"})
    assert r.status_code == 422 and message("template_unknown") in r.text


async def test_a_viewer_may_not_create_from_the_page(login, sessions):
    from server.auth import hash_password
    from server.models import Unit, User

    await User.get_or_create(
        username="viewer.page",
        defaults={"role": "viewer", "unit": await Unit.get(code="KT"), "password_hash": hash_password("viewer-pass-1")},
    )
    try:
        viewer = await sessions("viewer.page", "viewer-pass-1")
        r = await viewer.post(
            f"/units/{await unit_id('KT-147')}/checklists",
            data={"template_id": str(await template_id("monthly_report")), "period": "2026-11"},
        )
        assert r.status_code == 403 and message("forbidden") in r.text
    finally:
        await User.filter(username="viewer.page").delete()


async def test_logging_out_from_a_page_ends_the_session(login):
    xa = await login("xa.iatoi")
    r = await xa.post("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert (await xa.get("/api/session")).status_code == 401


async def test_the_unit_page_create_form_picks_the_period_from_a_list_of_recent_periods(login):
    import re

    from sync.periods import period_label, recent_periods, today_vn

    xa = await login("xa.iatoi")
    page = (await xa.get(f"/units/{await unit_id('KT-147')}")).text
    form = page[page.index('action="/units/') :]
    assert 'name="period"' in form and '<input id="period"' not in form
    options = re.findall(r'<option value="([^"]+)">([^<]+)</option>', form[form.index('id="period"') :])
    today = today_vn()
    expected = [*recent_periods("month", today), *recent_periods("year", today), "once"]
    assert options == [(p, period_label(p)) for p in expected]
    assert options[-1] == ("once", "Một lần") and len(options) == 6
