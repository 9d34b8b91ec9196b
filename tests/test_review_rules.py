"""The review rules of the engine (issue 14), through the real push and pull on a real database: comments
exactly once, a reason for returning and reopening, no approving one's own submission, reviewers settle
conflicts only with a value that was entered, approvals overtaken by a later edit refused."""

from __future__ import annotations

import uuid

from sync.models import Checklist, Edit, ReviewComment
from sync.workflow import Actor, transition
from tests.sync_fixtures import device, make_checklist  # noqa: F401 (fixture)
from tests.test_sync_engine import raw_push


def status(seq, cid, action, comment="", seen=None):
    e = {"seq": seq, "kind": "status", "checklist_id": cid, "action": action, "comment": comment, "device_ms": 1}
    if seen is not None:
        e["seen_version"] = seen
    return e


def comment(seq, cid, text, item_key="", comment_id=None):
    return {
        "seq": seq,
        "kind": "comment",
        "comment_id": comment_id or str(uuid.uuid4()),
        "checklist_id": cid,
        "item_key": item_key,
        "text": text,
        "device_ms": 1,
    }


def outcomes(r) -> list[tuple[str, str]]:
    assert r.status_code == 200, r.text
    return [(x["outcome"], x["reason"]) for x in r.json()["results"]]


async def _submitted(device, unit="KT-147", official="xa.iatoi"):
    cid = await make_checklist(unit)
    a = await device(official)
    a.edit_answer(cid, "c4_1_context", "yes")
    a.set_status(cid, "submit")
    await a.sync()
    return cid, a


def test_return_and_reopen_need_a_reason_pure():
    r = Actor("r", "reviewer", 45)
    kw = dict(seen_version=3, version=3, open_conflicts=0)
    assert transition(r, 147, "submitted", "return", **kw).reason == "reason_required"
    assert transition(r, 147, "submitted", "return", **kw, comment="   ").reason == "reason_required"
    assert transition(r, 147, "approved", "reopen", **kw).reason == "reason_required"
    assert transition(r, 147, "submitted", "return", **kw, comment="Thiếu minh chứng").ok


def test_the_submitter_cannot_approve_or_return_their_own_submission_pure():
    admin = Actor("admin", "admin", 1)
    kw = dict(seen_version=3, version=3, open_conflicts=0, submitted_by="admin")
    assert transition(admin, 147, "submitted", "approve", **kw).reason == "own_submission"
    assert transition(admin, 147, "submitted", "return", **kw, comment="x").reason == "own_submission"
    assert transition(Actor("other", "admin", 1), 147, "submitted", "approve", **kw).ok


async def test_a_comment_is_applied_once_however_often_it_is_sent(device):
    cid, _a = await _submitted(device)
    r = await device("huyen.iahdrai")
    cm = comment(1, cid, "Bổ sung quyết định thành lập ban chỉ đạo.", "c4_1_context")
    first = await raw_push(r, r.device_id, [cm])
    again = await raw_push(r, r.device_id, [cm])  # the answer was lost: the same push again
    # the same comment under a new seq (an outbox that re-queued it): still one comment
    third = await raw_push(r, r.device_id, [{**cm, "seq": 2}])
    assert outcomes(first) == outcomes(again) == outcomes(third) == [("applied", "")]
    assert first.json()["results"][0]["comment_id"] == cm["comment_id"]
    assert await ReviewComment.filter(id=cm["comment_id"]).count() == 1
    row = await ReviewComment.get(id=cm["comment_id"])
    assert (row.author, row.author_role, row.item_key) == ("huyen.iahdrai", "reviewer", "c4_1_context")
    # a comment changes no answer and does not move the version
    c = await Checklist.get(id=cid)
    assert c.status == "submitted" and row.checklist_version == c.version


async def test_comments_reach_the_communes_phone_in_its_pull(device):
    cid, a = await _submitted(device)
    r = await device("huyen.iahdrai")
    r.comment(cid, "Mục 4.1 cần bổ sung.", "c4_1_context")
    r.comment(cid, "Nhận xét chung.")
    await r.push()
    delta = (await a.http.get("/api/sync/pull", params={"device_id": a.device_id, "cursor": a._meta("cursor")})).json()
    assert sorted(c["text"] for c in delta["comments"]) == ["Mục 4.1 cần bổ sung.", "Nhận xét chung."]
    got = next(c for c in delta["comments"] if c["item_key"])
    assert got["author"] == "huyen.iahdrai" and got["author_name"] == "Lê Thị Thu Hà"
    assert got["author_role"] == "reviewer" and got["checklist_version"] >= 1
    snapshot = (await a.http.get("/api/sync/pull", params={"device_id": a.device_id})).json()
    assert snapshot["reset"] and len(snapshot["comments"]) == 2


async def test_comment_rejections(device):
    cid, a = await _submitted(device)
    other = await make_checklist("KT-097")
    r = await device("huyen.iahdrai")
    cm = comment(1, cid, "ok")
    r1 = await raw_push(
        r,
        r.device_id,
        [
            cm,
            comment(2, other, "không phải của tôi"),  # another district's commune
            comment(3, cid, "mục lạ", "no_such_item"),
            {**comment(4, cid, "x"), "text": ""},  # empty text: malformed
        ],
    )
    assert outcomes(r1) == [
        ("applied", ""),
        ("rejected", "out_of_scope"),
        ("rejected", "not_found"),
        ("rejected", "malformed"),
    ]
    # the id of a comment on one checklist reused on another checklist in scope
    cid2 = await make_checklist("KT-147", "monthly_report")
    r2 = await raw_push(r, r.device_id, [comment(5, cid2, "trùng mã", comment_id=cm["comment_id"])])
    assert outcomes(r2) == [("rejected", "comment_id_taken")]
    assert await ReviewComment.all().count() == 1


async def test_a_viewer_may_not_comment(device, login):
    from server.auth import hash_password
    from server.models import Unit, User
    from tests.conftest import DEMO_PASSWORD

    cid, _a = await _submitted(device)
    await User.get_or_create(  # as tests/test_access.py makes it: seed accounts stay
        username="viewer",
        defaults={"role": "viewer", "unit": await Unit.get(code="KT"), "password_hash": hash_password(DEMO_PASSWORD)},
    )
    v = await device("viewer")
    assert outcomes(await raw_push(v, v.device_id, [comment(1, cid, "xin chào")])) == [("rejected", "forbidden")]


async def test_return_without_a_reason_is_rejected_and_with_one_is_applied(device):
    cid, a = await _submitted(device)
    r = await device("huyen.iahdrai")
    res = await raw_push(
        r, r.device_id, [status(1, cid, "return"), status(2, cid, "return", "Thiếu minh chứng mục 4.1")]
    )
    assert outcomes(res) == [("rejected", "reason_required"), ("applied", "")]
    c = await Checklist.get(id=cid)
    assert c.status == "returned" and c.status_comment == "Thiếu minh chứng mục 4.1"
    # the commune's phone sees the reason after its sync
    await a.sync()
    assert a.checklist(cid)["status"] == "returned"
    assert a.checklist(cid)["status_comment"] == "Thiếu minh chứng mục 4.1"


async def test_reopen_needs_a_reason_and_reads_as_reopened(device):
    cid, a = await _submitted(device)
    r = await device("huyen.iahdrai")
    seen = (await Checklist.get(id=cid)).version
    assert outcomes(await raw_push(r, r.device_id, [status(1, cid, "approve", seen=seen)])) == [("applied", "")]
    # the approver may not undo their own approval: a unit above them (here the province) reopens it
    assert outcomes(await raw_push(r, r.device_id, [status(2, cid, "reopen", "Tự mở lại")])) == [
        ("rejected", "reopen_above_only")
    ]
    adm = await device("admin")
    res = await raw_push(adm, adm.device_id, [status(1, cid, "reopen"), status(2, cid, "reopen", "Sai số liệu")])
    assert outcomes(res) == [("rejected", "reason_required"), ("applied", "")]
    await a.sync()
    row = a.checklist(cid)
    assert row["status"] == "draft" and row["reopened"] is True and row["status_comment"] == "Sai số liệu"


async def test_an_admin_who_submitted_cannot_approve_it(device):
    cid = await make_checklist("KT-147")
    adm = await device("admin")
    adm.edit_answer(cid, "c4_1_context", "yes")
    adm.set_status(cid, "submit")
    await adm.sync()
    seen = (await Checklist.get(id=cid)).version
    res = await raw_push(adm, adm.device_id, [status(3, cid, "approve", seen=seen), status(4, cid, "return", "x")])
    assert outcomes(res) == [("rejected", "own_submission"), ("rejected", "own_submission")]
    # another decider above may
    r = await device("huyen.iahdrai")
    assert outcomes(await raw_push(r, r.device_id, [status(1, cid, "approve", seen=seen)])) == [("applied", "")]


async def test_an_official_cannot_approve_and_a_reviewer_cannot_answer(device):
    cid, a = await _submitted(device)
    seen = (await Checklist.get(id=cid)).version
    res = await raw_push(a, a.device_id, [status(3, cid, "approve", seen=seen)])
    assert outcomes(res) == [("rejected", "forbidden")]
    r = await device("huyen.iahdrai")
    r.edit_answer(cid, "c4_1_context", "no")
    assert [x["reason"] for x in await r.push()] == ["forbidden"]


async def test_an_approval_overtaken_by_a_later_edit_is_refused_and_names_the_version(device):
    cid = await make_checklist("KT-147")
    a = await device("xa.iatoi")
    a.edit_answer(cid, "c4_1_context", "yes")
    a.set_status(cid, "submit")
    await a.sync()
    r = await device("huyen.iahdrai")
    await r.sync()
    seen = r.checklist(cid)["version"]
    # the reviewer goes offline; meanwhile the checklist is reopened by the province, fixed and resubmitted
    adm = await device("admin")
    adm.set_status(cid, "reopen", comment="Cần sửa số liệu")
    await adm.push()
    a.edit_answer(cid, "c4_1_context", "partial")
    a.set_status(cid, "submit")
    await a.sync()
    r.set_status(cid, "approve", seen_version=seen)
    [res] = await r.push()
    now = (await Checklist.get(id=cid)).version
    assert res["outcome"] == "rejected" and res["reason"] == "version_changed" and res["version"] == now
    assert (await Checklist.get(id=cid)).status == "submitted"


async def test_a_reviewer_settles_a_conflict_only_with_a_value_that_was_entered(device):
    cid = await make_checklist("KT-147")
    a, b = await device("xa.iatoi"), await device("xa.iatoi")
    a.edit_answer(cid, "c4_1_context", "yes")
    b.edit_answer(cid, "c4_1_context", "no")
    await a.push()
    await b.push()
    await a.sync()
    a.set_status(cid, "submit")
    await a.sync()
    r = await device("huyen.iahdrai")
    await r.sync()
    [conflict_id] = list(r.conflicts(open_only=True))
    r.resolve(conflict_id, "na")  # nobody entered "na"
    r.resolve(conflict_id, "partial")
    assert [(x["outcome"], x["reason"]) for x in await r.push()] == [
        ("rejected", "value_not_entered"),
        ("rejected", "value_not_entered"),
    ]
    r.resolve(conflict_id, "no")  # one of the two entered: allowed, while the checklist waits for review
    assert [(x["outcome"], x["reason"]) for x in await r.push()] == [("applied", "")]
    await r.sync()
    seen = r.checklist(cid)["version"]
    r.set_status(cid, "approve", seen_version=seen)
    assert [(x["outcome"], x["reason"]) for x in await r.push()] == [("applied", "")]
    assert r.answer(cid, "c4_1_context")["value"] == "no"


async def test_an_official_may_still_type_a_new_value_to_settle_a_conflict(device):
    cid = await make_checklist("KT-147")
    a, b = await device("xa.iatoi"), await device("xa.iatoi")
    a.edit_answer(cid, "c4_1_context", "yes")
    b.edit_answer(cid, "c4_1_context", "no")
    await a.push()
    await b.push()
    await a.sync()
    [conflict_id] = list(a.conflicts(open_only=True))
    a.resolve(conflict_id, "partial")
    assert [(x["outcome"], x["reason"]) for x in await a.push()] == [("applied", "")]
    assert await Edit.filter(kind="resolve", outcome="applied").count() == 1


async def test_the_tree_is_data_a_province_reviewer_decides_for_a_commune_directly_below(device, login):
    """Two-level local government: a commune straight under the province, reviewed by the province."""
    from server.auth import hash_password
    from server.models import Unit, User
    from tests.conftest import DEMO_PASSWORD, MUTABLE_TABLES, wipe
    from tests.sync_fixtures import PERIODS

    province = await Unit.get(code="KT")
    commune = await Unit.create(
        code="T2-X", kind="commune", level=1, parent=province, source_name="Xã Mới", name="Xã Mới", name_folded="xa moi"
    )
    pw = hash_password(DEMO_PASSWORD)
    await User.create(username="t2.official", role="official", unit=commune, password_hash=pw)
    await User.create(username="t2.reviewer", role="reviewer", unit=province, password_hash=pw)
    try:
        from server.services.checklists import create_checklist
        from tests.conftest import template_id

        cid = (
            await create_checklist(
                commune.id, await template_id("self_assessment"), PERIODS["self_assessment"], "admin"
            )
        ).id
        a = await device("t2.official")
        a.edit_answer(cid, "c4_1_context", "yes")
        a.set_status(cid, "submit")
        await a.sync()
        rev = await login("t2.reviewer")
        queue = (await rev.get("/api/review/queue")).json()
        assert [c["id"] for c in queue["checklists"]] == [cid]
        r = await device("t2.reviewer")
        await r.sync()
        r.set_status(cid, "approve", seen_version=r.checklist(cid)["version"])
        assert [(x["outcome"], x["reason"]) for x in await r.push()] == [("applied", "")]
        # the commune's own official is not above it
        assert (await (await login("t2.official")).get("/api/review/queue")).status_code == 403
    finally:
        await wipe(MUTABLE_TABLES)
        await User.filter(username__in=("t2.official", "t2.reviewer")).delete()
        await commune.delete()


def test_an_approved_checklist_is_reopened_from_above_the_approver_pure():
    from sync.workflow import Actor, may_reopen_approved

    district = Actor("huyen.iahdrai", "reviewer", 46)
    province_reviewer = Actor("tinh.reviewer", "reviewer", 1)
    scope_of_province = {1, 46, 147}
    assert not may_reopen_approved(district, 46, {46, 147})  # the approver themself
    assert may_reopen_approved(province_reviewer, 46, scope_of_province)  # the unit above
    assert not may_reopen_approved(district, 1, {46, 147})  # below the approver
    assert may_reopen_approved(Actor("admin", "admin", 1), 1, scope_of_province)  # the province's admin
