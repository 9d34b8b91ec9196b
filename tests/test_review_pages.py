"""The review desk pages (issue 14): the queue and one checklist; comments and decisions posted as forms
travel as edits from the session's desk device, with the engine's rules and an audit row each."""

from __future__ import annotations

import re

from server.models import AuditLog
from sync.models import Checklist, Device, ReviewComment
from tests.sync_fixtures import device, make_checklist  # noqa: F401 (fixture)

ORIGIN = {"Origin": "http://testserver"}


async def _submitted(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    a.edit_answer(cid, "c4_1_context", "yes")
    a.edit_answer(cid, "c4_2_interested_parties", "no")
    a.set_status(cid, "submit")
    await a.sync()
    return cid, a


def _hidden(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]*)"', html)


async def test_the_queue_page_lists_submissions_with_counts_and_a_bar_per_unit(device, login):
    cid, _a = await _submitted(device)
    rev = await login("huyen.iahdrai")
    r = await rev.get("/review")
    assert r.status_code == 200
    assert f'href="/review/{cid}"' in r.text and "Đã nộp: <strong>1</strong>" in r.text
    assert "<svg" in r.text and 'aria-label="1 phiếu chờ duyệt"' in r.text
    assert 'href="/review">Duyệt phiếu</a>' in r.text  # the header link, for deciders
    assert "<script" not in r.text and "style=" not in r.text
    other = await login("huyen.tumorong")
    assert cid not in (await other.get("/review?status=all")).text


async def test_officials_get_no_desk_and_no_link(device, login):
    cid, _a = await _submitted(device)
    off = await login("xa.iatoi")
    assert (await off.get("/review")).status_code == 403
    assert (await off.get(f"/review/{cid}")).status_code == 403
    r = await off.post(f"/review/{cid}/decide", data={"action": "approve", "seen_version": "1"}, headers=ORIGIN)
    assert r.status_code == 403
    assert "Duyệt phiếu</a>" not in (await off.get("/units")).text


async def test_another_districts_reviewer_meets_not_found(device, login):
    cid, _a = await _submitted(device)
    other = await login("huyen.tumorong")
    assert (await other.get(f"/review/{cid}")).status_code == 404
    r = await other.post(f"/review/{cid}/comment", data={"text": "x"}, headers=ORIGIN)
    assert r.status_code == 404
    assert await ReviewComment.all().count() == 0


async def test_a_comment_form_sent_twice_makes_one_comment_from_the_desk_device(device, login):
    cid, _a = await _submitted(device)
    rev = await login("huyen.iahdrai")
    page = (await rev.get(f"/review/{cid}")).text
    comment_id = _hidden(page, "comment_id")[0]
    form = {"comment_id": comment_id, "item_key": "c4_1_context", "text": "Đính kèm quyết định."}
    for _ in range(2):
        r = await rev.post(f"/review/{cid}/comment", data=form, headers=ORIGIN)
        assert r.status_code == 303 and r.headers["location"] == f"/review/{cid}?done=comment"
    assert await ReviewComment.filter(id=comment_id).count() == 1
    desk = await Device.get(id=(await ReviewComment.get(id=comment_id)).device_id)
    assert desk.name.startswith("Bàn duyệt")
    shown = (await rev.get(f"/review/{cid}?done=comment")).text
    assert "Đính kèm quyết định." in shown and "Đã gửi nhận xét." in shown
    assert await AuditLog.filter(action="checklist.comment", object_id=cid).count() == 1


async def test_a_cross_site_form_is_refused(device, login):
    cid, _a = await _submitted(device)
    rev = await login("huyen.iahdrai")
    r = await rev.post(f"/review/{cid}/comment", data={"text": "x"}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert await ReviewComment.all().count() == 0


async def test_return_needs_a_reason_then_the_commune_sees_it(device, login):
    cid, a = await _submitted(device)
    rev = await login("huyen.iahdrai")
    r = await rev.post(f"/review/{cid}/decide", data={"action": "return", "comment": " "}, headers=ORIGIN)
    assert r.status_code == 409 and "Vui lòng ghi lý do" in r.text
    r = await rev.post(f"/review/{cid}/decide", data={"action": "return", "comment": "Bổ sung mục 4.2"}, headers=ORIGIN)
    assert r.status_code == 303
    await a.sync()
    assert a.checklist(cid)["status"] == "returned" and a.checklist(cid)["status_comment"] == "Bổ sung mục 4.2"
    page = (await rev.get(f"/review/{cid}")).text
    assert "Lý do: Bổ sung mục 4.2" in page and "Bị trả lại" in page


async def test_an_approval_overtaken_is_refused_and_shows_what_changed(device, login):
    cid, a = await _submitted(device)
    rev = await login("huyen.iahdrai")
    page = (await rev.get(f"/review/{cid}")).text
    [seen] = _hidden(page, "seen_version")
    # meanwhile the province reopens it, the commune changes an answer and submits again
    adm = await device("admin")
    adm.set_status(cid, "reopen", comment="Sửa số liệu")
    await adm.push()
    a.edit_answer(cid, "c4_2_interested_parties", "partial")
    a.set_status(cid, "submit")
    await a.sync()
    r = await rev.post(f"/review/{cid}/decide", data={"action": "approve", "seen_version": seen}, headers=ORIGIN)
    assert r.status_code == 409
    assert "Phiếu đã thay đổi kể từ khi bạn xem" in r.text and f"Đã thay đổi từ phiên bản {seen}" in r.text
    assert "Một phần" in r.text  # the new value of the changed item
    assert (await Checklist.get(id=cid)).status == "submitted"
    # approving the version now shown works
    [now] = _hidden(r.text, "seen_version")
    ok = await rev.post(f"/review/{cid}/decide", data={"action": "approve", "seen_version": now}, headers=ORIGIN)
    assert ok.status_code == 303 and (await Checklist.get(id=cid)).status == "approved"
    assert await AuditLog.filter(action="checklist.approve", object_id=cid).count() == 1


async def test_choosing_one_of_the_entered_values_settles_a_conflict(device, login):
    cid = await make_checklist("KT-147")
    a, b = await device("xa.iatoi"), await device("xa.iatoi")
    a.edit_answer(cid, "c4_1_context", "yes")
    b.edit_answer(cid, "c4_1_context", "no")
    await a.push()
    await b.push()
    a.set_status(cid, "submit")
    await a.sync()
    rev = await login("huyen.iahdrai")
    page = (await rev.get(f"/review/{cid}")).text
    assert "Chọn giá trị này" in page and "Xung đột giá trị" in page
    [conflict_id, _same] = _hidden(page, "conflict_id")
    r = await rev.post(f"/review/{cid}/resolve", data={"conflict_id": conflict_id, "side": "loser"}, headers=ORIGIN)
    assert r.status_code == 303
    page = (await rev.get(f"/review/{cid}")).text
    assert "Xung đột giá trị" not in page
    await a.sync()
    assert not a.conflicts(open_only=True)


async def test_reopen_with_a_reason_reads_as_reopened(device, login):
    cid, a = await _submitted(device)
    rev = await login("huyen.iahdrai")
    v = (await Checklist.get(id=cid)).version
    await rev.post(f"/review/{cid}/decide", data={"action": "approve", "seen_version": str(v)}, headers=ORIGIN)
    # the reviewer who approved cannot undo it; the province, above them, reopens it
    await rev.post(f"/review/{cid}/decide", data={"action": "reopen", "comment": "Tự mở lại"}, headers=ORIGIN)
    assert (await Checklist.get(id=cid)).status == "approved"
    adm = await login("admin")
    r = await adm.post(f"/review/{cid}/decide", data={"action": "reopen", "comment": "Sai số liệu"}, headers=ORIGIN)
    assert r.status_code == 303
    page = (await adm.get(f"/review/{cid}")).text
    assert "Mở lại" in page and "Lý do: Sai số liệu" in page
    timeline = page[page.index('id="h-timeline"') :]
    at = [timeline.index(e) for e in ("Đã nộp phiếu", "Đã duyệt phiếu", "Đã mở lại phiếu")]
    assert at == sorted(at)  # in the order they happened


async def test_the_communes_checklist_page_shows_the_reason_and_the_comments(device, login):
    cid, _a = await _submitted(device)
    rev = await login("huyen.iahdrai")
    page = (await rev.get(f"/review/{cid}")).text
    form = {
        "comment_id": _hidden(page, "comment_id")[0],
        "item_key": "c4_2_interested_parties",
        "text": "Thiếu danh sách.",
    }
    await rev.post(f"/review/{cid}/comment", data=form, headers=ORIGIN)
    await rev.post(f"/review/{cid}/decide", data={"action": "return", "comment": "Bổ sung mục 4.2"}, headers=ORIGIN)
    off = await login("xa.iatoi")
    shown = (await off.get(f"/checklists/{cid}")).text
    assert "Bị trả lại" in shown and "Lý do: Bổ sung mục 4.2" in shown and "Thiếu danh sách." in shown
    assert f'href="/review/{cid}"' not in shown  # no desk for the commune
    assert f'href="/review/{cid}"' in (await rev.get(f"/checklists/{cid}")).text


async def test_evidence_shows_as_links_with_a_thumbnail_for_images(device, login):
    from tests.sync_fixtures import make_checklist as make

    cid = await make("KT-147", "rollout")
    a = await device("xa.iatoi")
    ref = {"sha256": "ab" * 32, "name": "bao-cao-thuc-trang.jpg", "size": 1200, "mime": "image/jpeg"}
    pdf = {"sha256": "cd" * 32, "name": "ke-hoach.pdf", "size": 3400, "mime": "application/pdf"}
    a.edit_answer(cid, "s02_gap_report", [ref, pdf])
    a.set_status(cid, "submit")
    await a.sync()
    page = (await (await login("huyen.iahdrai")).get(f"/review/{cid}")).text
    assert f'<a href="/api/evidence/{ref["sha256"]}"><img src="/api/evidence/{ref["sha256"]}"' in page
    assert f'<a href="/api/evidence/{pdf["sha256"]}">ke-hoach.pdf</a>' in page


async def test_the_queue_offers_periods_from_a_list_not_a_text_box(device, login):
    cid, _a = await _submitted(device)
    period = (await Checklist.get(id=cid)).period
    html = (await (await login("huyen.iahdrai")).get("/review")).text
    assert '<select id="f-period" name="period">' in html and '<input id="f-period"' not in html
    assert f'<option value="{period}" >' in html
    html = (await (await login("huyen.iahdrai")).get(f"/review?period={period}")).text
    assert f'<option value="{period}" selected>' in html
