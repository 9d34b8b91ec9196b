"""A refused body answers a Vietnamese sentence a person understands, naming the field by its label."""

from __future__ import annotations

from server.catalogue import FIELD_LABELS, PROBLEMS, VALIDATION_MESSAGES

from .conftest import template_id, unit_id


async def test_a_login_without_password_says_so_in_vietnamese(anon, seeded):
    r = await anon.post("/api/session", json={"username": "xa.iatoi"})
    assert r.status_code == 422
    assert r.json() == {"error": "invalid", "message": "Chưa nhập mật khẩu.", "field": "password"}
    r = await anon.post("/api/session", json={"username": "", "password": "x"})
    assert r.status_code == 422 and r.json()["message"] == "Chưa nhập tên đăng nhập."


async def test_too_long_and_wrong_type_read_as_sentences(anon, login, seeded):
    r = await anon.post("/api/session", json={"username": "a" * 65, "password": "x"})
    assert r.json()["message"] == "Tên đăng nhập quá dài (tối đa 64 ký tự)."
    xa = await login("xa.iatoi")
    r = await xa.post(
        "/api/checklists",
        json={"unit_id": "một", "template_id": await template_id("monthly_report"), "period": "2026-11"},
    )
    assert r.status_code == 422 and r.json()["field"] == "unit_id"
    assert r.json()["message"] == "Đơn vị phải là số nguyên."
    r = await xa.post("/api/checklists", json={"unit_id": await unit_id("KT-147"), "period": "2026-11"})
    assert r.json()["message"] == "Chưa nhập mẫu phiếu."


async def test_no_pydantic_english_reaches_the_client(login):
    xa = await login("xa.iatoi")
    device = (await xa.post("/api/devices", json={"name": "Điện thoại A"})).json()["device_id"]
    r = await xa.post("/api/devices", json={"name": 5})
    assert r.status_code == 422 and r.json()["message"] == "Tên phải là chữ."
    bodies = [
        {},
        {"protocol": 1, "device_id": device, "client_ms": 0, "edits": [{"kind": "nope"}]},
        {"protocol": 1, "device_id": device, "client_ms": 0, "edits": "none"},
        # a seq sent as a string: the edit cannot be recorded, so the whole request is refused (an edit with
        # a valid seq that is wrong otherwise is rejected `malformed` on its own, and the rest applies)
        {"protocol": 1, "device_id": device, "client_ms": 0, "edits": [{"kind": "answer", "seq": "1"}]},
        {"protocol": "1", "device_id": device, "client_ms": 0, "edits": []},
    ]
    for body in bodies:
        r = await xa.post("/api/sync/push", json=body)
        assert r.status_code == 422, r.text
        message = r.json()["message"]
        for english in ("Field required", "Input should", "valid integer", "String should"):
            assert english not in message, message
        assert message.endswith(".") or message.endswith(")."), message


def test_every_validation_message_fills_with_a_label():
    assert PROBLEMS["field_refused"][2] == "{detail}"
    for kind, text in VALIDATION_MESSAGES.items():
        assert text.strip() and text[0].isupper() or text.startswith("{Label}"), kind
    assert all(label == label.lower() for label in FIELD_LABELS.values())
