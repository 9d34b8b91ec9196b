"""Conflicts on notes, and on every field of every item at once, render in every view: the JSON API, the
server's checklist page and the pull that feeds the phone's conflict screen.

Two phones of one official write the same item offline; neither saw the other's edit (base_version 0).
"""

from __future__ import annotations

from server.models import TemplateItem
from sync.models import Checklist, Conflict
from tests.sync_fixtures import device, make_checklist  # noqa: F401 (fixture)

SHA_A, SHA_B = "a" * 64, "b" * 64


def _two_values(item_type: str) -> tuple[object, object]:
    """Two different valid values of an item type (sync.protocol.valid_value)."""
    return {
        "choice": ("yes", "no"),
        "text": ("Đã ban hành quyết định", "Chưa ban hành"),
        "number": (12, 7.5),
        "date": ("2026-11-20", "2026-12-01"),
        "evidence": (
            [{"sha256": SHA_A, "name": "quyet-dinh.jpg", "size": 10, "mime": "image/jpeg"}],
            [{"sha256": SHA_B, "name": "bien-ban.pdf", "size": 20, "mime": "application/pdf"}],
        ),
    }[item_type]


async def _both_phones_write(device, cid: str, fields: dict[str, tuple[dict, dict]]):
    """Phone a then phone b edit each item key with their own fields, offline, then push: a first."""
    a, b = await device("xa.iatoi"), await device("xa.iatoi")
    for key, (mine_a, mine_b) in fields.items():
        a.edit_answer(cid, key, **mine_a)
        b.edit_answer(cid, key, **mine_b)
    assert {r["outcome"] for r in await a.push()} == {"applied"}
    results_b = await b.push()
    return a, b, results_b


async def test_two_phones_writing_one_note_open_a_conflict_the_api_shows(device, login):
    cid = await make_checklist("KT-147")
    _a, _b, results = await _both_phones_write(
        device, cid, {"c4_1_context": ({"note": "Ghi chú của máy A"}, {"note": "Ghi chú của máy B"})}
    )
    assert [r["outcome"] for r in results] == ["conflict"]
    official = await login("xa.iatoi")
    r = await official.get(f"/api/checklists/{cid}")
    assert r.status_code == 200, r.text
    [conflict] = r.json()["conflicts"]
    assert conflict["field"] == "note" and conflict["item_key"] == "c4_1_context"
    assert {conflict["winner_value"], conflict["loser_value"]} == {"Ghi chú của máy A", "Ghi chú của máy B"}


async def test_a_note_that_looks_like_json_stays_text_in_a_conflict(device, login):
    cid = await make_checklist("KT-147")
    await _both_phones_write(device, cid, {"c4_1_context": ({"note": "12"}, {"note": "null"})})
    r = await (await login("xa.iatoi")).get(f"/api/checklists/{cid}")
    [conflict] = r.json()["conflicts"]
    assert {conflict["winner_value"], conflict["loser_value"]} == {"12", "null"}


async def test_every_field_of_every_item_in_conflict_renders_in_every_view(device, login):
    cid = await make_checklist("KT-147")
    checklist = await Checklist.get(id=cid)
    items = await TemplateItem.filter(template_id=checklist.template_id).order_by("position")  # type: ignore[attr-defined]
    fields = {}
    for i in items:
        va, vb = _two_values(i.type)
        fields[i.key] = ({"value": va, "note": f"A: {i.key} <b>"}, {"value": vb, "note": f"B: {i.key} & co"})
    a, b, results = await _both_phones_write(device, cid, fields)
    assert {r["outcome"] for r in results} == {"conflict"}
    expected = 2 * len(items)
    assert await Conflict.filter(checklist_id=cid, status="open").count() == expected

    official = await login("xa.iatoi")
    api = await official.get(f"/api/checklists/{cid}")
    assert api.status_code == 200, api.text
    conflicts = api.json()["conflicts"]
    assert len(conflicts) == expected
    assert {(c["item_key"], c["field"]) for c in conflicts} == {(i.key, f) for i in items for f in ("value", "note")}

    page = await official.get(f"/checklists/{cid}")
    assert page.status_code == 200
    html = page.text
    assert html.count('class="conflict"') == expected
    assert html.count("Xung đột ghi chú") == len(items) and html.count("Xung đột giá trị") == len(items)
    # user text is escaped, never markup
    assert "A: c4_1_context &lt;b&gt;" in html and "B: c4_1_context &amp; co" in html
    assert "<b>" not in html

    # the phone's conflict screen reads the pulled conflicts: every one, with both sides as values
    await a.pull()
    await b.pull()
    for phone in (a, b):
        pulled = phone.conflicts(open_only=True).values()
        assert len(pulled) == expected
        for c in pulled:
            if c["field"] == "note":
                assert isinstance(c["winner_value"], str) and isinstance(c["loser_value"], str)
    assert a.replica()["conflicts"] == b.replica()["conflicts"]


async def test_a_note_conflict_is_resolved_like_a_value_conflict(device, login):
    cid = await make_checklist("KT-147")
    a, b, _ = await _both_phones_write(device, cid, {"c4_1_context": ({"note": "một"}, {"note": "hai"})})
    await b.pull()
    [conflict] = b.conflicts(open_only=True).values()
    b.resolve(conflict["id"], "ba")
    assert [r["outcome"] for r in await b.push()] == ["applied"]
    r = await (await login("xa.iatoi")).get(f"/api/checklists/{cid}")
    assert r.json()["conflicts"] == []
    [answer] = [x for x in r.json()["answers"] if x["item_key"] == "c4_1_context"]
    assert answer["note"] == "ba"
