"""The reminder routes: a phone's push subscription, the inbox, a person's channels, the province's policy.
Bad input is refused with a status and a Vietnamese message, never a 500."""

from __future__ import annotations

from server.models import User
from server.reminders.models import InboxMessage, PushSubscription

SUB = {
    "endpoint": "https://fcm.googleapis.com/fcm/send/abc123",
    "keys": {"p256dh": "B" + "A" * 86, "auth": "c2VjcmV0LWF1dGgtMTY"},
    "expirationTime": None,
}


async def test_a_phone_subscribes_once_however_often_it_sends_and_unsubscribes(login):
    c = await login("xa.iatoi")
    first = await c.post("/api/push/subscriptions", json=SUB)
    again = await c.post("/api/push/subscriptions", json=SUB)  # a retried POST
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert await PushSubscription.all().count() == 1
    r = await c.request("DELETE", "/api/push/subscriptions", json={"endpoint": SUB["endpoint"]})
    assert r.status_code == 204 and await PushSubscription.all().count() == 0


async def test_a_subscription_that_is_not_https_or_has_bad_keys_is_refused_in_vietnamese(login, anon):
    c = await login("xa.iatoi")
    r = await c.post("/api/push/subscriptions", json={**SUB, "endpoint": "http://10.0.0.1/steal"})
    assert r.status_code == 422 and "https://" in r.json()["message"]
    r = await c.post("/api/push/subscriptions", json={**SUB, "keys": {"p256dh": "short", "auth": "x"}})
    assert r.status_code == 422 and r.json()["message"] == "Khoá của đăng ký nhận thông báo đẩy không hợp lệ."
    r = await c.post("/api/push/subscriptions", json={"endpoint": 5})
    assert r.status_code == 422
    assert (await anon.post("/api/push/subscriptions", json=SUB)).status_code == 401
    assert await PushSubscription.all().count() == 0


async def test_the_inbox_lists_a_persons_own_messages_and_marks_them_read(login):
    c = await login("xa.iatoi")
    me = await User.get(username="xa.iatoi")
    other = await User.get(username="xa.tumorong")
    mine = await InboxMessage.create(
        user_id=me.id, key="1/2026-12/before-7", title="Sắp đến hạn", body="…", url="/app/#/"
    )
    theirs = await InboxMessage.create(user_id=other.id, key="1/2026-12/before-7", title="Khác", body="…")
    r = await c.get("/api/inbox")
    assert r.status_code == 200
    assert [m["title"] for m in r.json()["messages"]] == ["Sắp đến hạn"] and r.json()["unread"] == 1
    r = await c.post(f"/api/inbox/{mine.id}/read")
    assert r.status_code == 200 and r.json()["read"] is True
    assert (await c.get("/api/inbox")).json()["unread"] == 0
    r = await c.post(f"/api/inbox/{theirs.id}/read")
    assert r.status_code == 404 and r.json()["message"] == "Không tìm thấy thông báo."
    assert (await c.post("/api/inbox/abc/read")).status_code == 422


async def test_each_person_turns_their_channels_on_and_off(login):
    c = await login("xa.iatoi")
    assert (await c.get("/api/notify/prefs")).json() == {"push": True, "email": True, "email_address": ""}
    r = await c.put("/api/notify/prefs", json={"push": False, "email_address": "vanthu@iatoi.gov.vn"})
    assert r.json() == {"push": False, "email": True, "email_address": "vanthu@iatoi.gov.vn"}
    r = await c.put("/api/notify/prefs", json={"email_address": "không phải email"})
    assert r.status_code == 422 and r.json()["message"] == "Địa chỉ email không hợp lệ."
    assert (await c.put("/api/notify/prefs", json={"push": "no"})).status_code == 422


async def test_only_the_provincial_admin_changes_the_reminder_policy(login):
    official = await login("xa.iatoi")
    admin = await login("admin")
    policy = (await official.get("/api/reminders/policy")).json()
    assert policy["before_days"] == [7, 3, 1] and policy["quiet_start"] == "21:00"
    assert (await official.put("/api/reminders/policy", json=policy)).status_code == 403
    r = await admin.put("/api/reminders/policy", json={**policy, "before_days": [1, 10, 5]})
    assert r.status_code == 200 and r.json()["before_days"] == [10, 5, 1]
    assert (await official.get("/api/reminders/policy")).json()["before_days"] == [10, 5, 1]
    for bad in ({"before_days": [100]}, {"quiet_start": "25:00"}, {"after_every": 0}, {"sms": True}):
        r = await admin.put("/api/reminders/policy", json={**policy, **bad})
        assert r.status_code == 422 and r.json()["field"].split(".")[0] in bad, r.json()


SAME_ORIGIN = {"Origin": "http://testserver"}
FORM = {"before_days": "5, 2", "after_first": "2", "after_every": "3", "quiet_start": "20:00", "quiet_end": "06:30"}


async def test_the_admin_edits_the_policy_on_the_reminders_page(login):
    admin = await login("admin")
    r = await admin.get("/reminders")
    assert r.status_code == 200 and 'value="7, 3, 1"' in r.text and "Chưa gửi nhắc hạn nào." in r.text
    r = await admin.post("/reminders", data=FORM, headers=SAME_ORIGIN)
    assert r.status_code == 303 and r.headers["location"] == "/reminders?saved=1"
    policy = (await admin.get("/api/reminders/policy")).json()
    assert (policy["before_days"], policy["after_every"], policy["reviewer_summary"], policy["quiet_end"]) == (
        [5, 2],
        3,
        False,
        "06:30",
    )
    for bad, words in (
        ({"before_days": "bảy"}, "Số ngày nhắc trước hạn phải là các số từ 0 đến 60"),
        ({"after_every": "0"}, "Số ngày nhắc sau hạn phải là một số từ 1 đến 60."),
        ({"quiet_start": "9h"}, "Giờ không gửi phải có dạng HH:MM"),
    ):
        r = await admin.post("/reminders", data={**FORM, **bad}, headers=SAME_ORIGIN)
        assert r.status_code == 422 and words in r.text, bad
    official = await login("xa.iatoi")
    assert (await official.get("/reminders")).status_code == 403
    assert (await official.post("/reminders", data=FORM, headers=SAME_ORIGIN)).status_code == 403
