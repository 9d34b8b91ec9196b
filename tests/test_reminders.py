"""Reminders reach people, each exactly once: a month walked day by day with a controllable clock, every
push decrypted and its VAPID token checked, every email received by a real SMTP server and parsed."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from server.reminders import service
from server.reminders.models import InboxMessage, PushSubscription, ReminderLedger
from server.reminders.policy import Policy, in_quiet_hours, save_policy, stage_of
from server.reminders.run import run_once

from .reminder_fixtures import *  # noqa: F401 - fixtures
from .reminder_world import DUE, at, channel_settings, days, make_world, submit, subscribe


def test_stages_before_and_after_a_deadline_follow_the_policy():
    p = Policy()
    assert [stage_of(p, d) for d in (9, 8, 7, 6, 4, 3, 2, 1, 0)] == [
        None,
        None,
        "before-7",
        "before-7",
        "before-7",
        "before-3",
        "before-3",
        "before-1",
        "before-1",
    ]
    assert [stage_of(p, -d) for d in (1, 2, 7, 8, 14, 15, 22)] == [
        "after-1",
        "after-1",
        "after-1",
        "after-8",
        "after-8",
        "after-15",
        "after-22",
    ]


def test_quiet_hours_are_counted_in_vietnam_time():
    p = Policy()
    day = date(2026, 12, 8)
    assert [in_quiet_hours(p, at(day, h)) for h in (6, 7, 12, 20, 21, 23)] == [True, False, False, False, True, True]


async def test_a_month_day_by_day_each_person_gets_each_reminder_once_on_every_channel(
    db, settings, push_service, smtp_server
):
    w = await make_world()
    s = channel_settings(settings, push_service, smtp_server)
    await service.set_prefs(w["off1"].id, None, None, "off1@xa.gov.vn")
    await service.set_prefs(w["off2"].id, None, False, "off2@xa.gov.vn")  # email turned off
    await service.set_prefs(w["rev"].id, None, None, "rev@huyen.gov.vn")
    await subscribe(push_service, "off1-phone", w["off1"])
    await subscribe(push_service, "off2-phone", w["off2"])

    for day in days(date(2026, 12, 1), date(2026, 12, 31)):
        if day == date(2026, 12, 13):
            await submit(w["c2"], w["template"])  # commune 2 submits: it hears nothing more
        for hour in (5, 7, 13, 22):  # 05:00 and 22:00 are quiet hours: held, sent at 07:00
            report = await run_once(s, at(day, hour))
            assert report.held == (hour in (5, 22))

    sent = await ReminderLedger.all().values("stage", "recipient_id", "channel", "sent_at", "status")
    assert {r["status"] for r in sent} == {"sent"}
    assert all(r["sent_at"].astimezone(at(DUE, 0).tzinfo).hour == 7 for r in sent)  # never in quiet hours

    def when(user, channel):
        return {
            r["stage"]: r["sent_at"].astimezone(at(DUE, 0).tzinfo).day
            for r in sent
            if r["recipient_id"] == user.id and r["channel"] == channel
        }

    off1 = {"before-7": 8, "before-3": 12, "before-1": 14, "after-1": 16, "after-8": 23, "after-15": 30}
    assert when(w["off1"], "inbox") == off1
    assert when(w["off1"], "email") == off1
    off1_push = await PushSubscription.get(user_id=w["off1"].id)
    assert when(w["off1"], f"push:{off1_push.id}") == off1
    off2 = {"before-7": 8, "before-3": 12}
    assert when(w["off2"], "inbox") == off2
    assert when(w["off2"], "email") == {}
    rev = [r for r in sent if r["recipient_id"] == w["rev"].id]
    assert Counter(r["channel"] for r in rev) == {"inbox": 16, "email": 16}  # one summary a day, 16th-31st
    assert sorted(r["sent_at"].astimezone(at(DUE, 0).tzinfo).day for r in rev if r["channel"] == "inbox") == list(
        range(16, 32)
    )
    assert not [r for r in sent if r["recipient_id"] == w["admin"].id]

    # Every push arrived once, decrypted with the phone's keys, with a VAPID token, TTL, urgency and topic.
    assert push_service.faults == []
    by_phone = Counter(p.name for p in push_service.received)
    assert by_phone == {"off1-phone": 6, "off2-phone": 2}
    first = push_service.received[0]
    assert first.payload["title"] == "Sắp đến hạn: Báo cáo thử nghiệm «ISO»"
    assert first.payload["url"] == "/app/#/" and first.topic == f"{w['rule'].id}-once" and first.ttl == s.push_ttl
    assert [p.urgency for p in push_service.received if p.name == "off1-phone"] == ["normal", "normal"] + ["high"] * 4
    assert len({id(p.claims) for p in push_service.received}) == len(push_service.received)

    # Every email arrived once, in Vietnamese, with a plain and an escaped HTML part.
    assert len(smtp_server.messages) == 6 + 16
    to_off1 = [m for m in smtp_server.messages if m["To"] == "off1@xa.gov.vn"]
    assert [m["Subject"] for m in to_off1][:1] == ["Sắp đến hạn: Báo cáo thử nghiệm «ISO»"]
    overdue = to_off1[3]
    assert overdue["Subject"] == "Quá hạn: Báo cáo thử nghiệm «ISO»"
    plain = overdue.get_body(("plain",)).get_content()
    assert "Xã Một <b>& chưa nộp «Báo cáo thử nghiệm «ISO»» (Một lần). Hạn cuối là 15/12/2026, đã quá 1 ngày." in plain
    html = overdue.get_body(("html",)).get_content()
    assert "Xã Một &lt;b&gt;&amp; chưa nộp" in html and "<b>" not in html
    assert 'href="https://iso.example.gov.vn/app/#/"' in html
    summary = [m for m in smtp_server.messages if m["To"] == "rev@huyen.gov.vn"][0]
    assert summary["Subject"] == "Đơn vị trực thuộc chưa nộp đúng hạn (16/12/2026)"
    assert (
        "Xã Một <b>&: «Báo cáo thử nghiệm «ISO»» (Một lần), hạn 15/12/2026, quá 1 ngày."
        in summary.get_body(("plain",)).get_content()
    )
    assert "Xã Hai" not in summary.get_body(("plain",)).get_content()

    # The inbox holds every message once.
    assert await InboxMessage.filter(user_id=w["off1"].id).count() == 6
    assert await InboxMessage.filter(user_id=w["rev"].id).count() == 16


async def test_a_reminder_links_to_the_checklist_the_unit_already_started(db, settings, push_service):
    w = await make_world()
    s = channel_settings(settings, push_service)
    await subscribe(push_service, "off1-phone", w["off1"])
    draft = await submit(w["c1"], w["template"])
    draft.status = "draft"
    await draft.save()
    await run_once(s, at(DUE - timedelta(days=3), 8))
    assert [p.payload["url"] for p in push_service.received] == [f"/app/#/c/{draft.id}"]


async def test_a_gone_subscription_is_deleted_and_a_failed_push_is_retried_with_backoff_alone(
    db, settings, push_service, smtp_server
):
    w = await make_world()
    s = channel_settings(settings, push_service, smtp_server)
    await service.set_prefs(w["off1"].id, None, None, "off1@xa.gov.vn")
    await subscribe(push_service, "old-phone", w["off1"])
    await subscribe(push_service, "new-phone", w["off1"])
    push_service.answers = {"old-phone": [410], "new-phone": [500, 503]}
    day = DUE - timedelta(days=7)

    report = await run_once(s, at(day, 8))
    assert (report.gone, report.failed, report.sent["inbox"], report.sent["email"]) == (1, 1, 2, 1)  # off1, off2
    assert [sub.endpoint.rsplit("/", 1)[1] for sub in await PushSubscription.all()] == ["new-phone"]

    await run_once(s, at(day, 8, 4))  # before the 5-minute backoff: nothing
    assert push_service.received == []
    await run_once(s, at(day, 8, 6))  # second try: 503, next in 10 minutes
    await run_once(s, at(day, 8, 10))
    assert push_service.received == []
    await run_once(s, at(day, 8, 20))  # third try: delivered
    assert [p.name for p in push_service.received] == ["new-phone"]
    rows = {r.channel.split(":")[0]: r for r in await ReminderLedger.filter(recipient_id=w["off1"].id)}
    assert rows["push"].status == "sent" and rows["push"].attempts == 3
    assert len(smtp_server.messages) == 1 and await InboxMessage.filter(user_id=w["off1"].id).count() == 1


async def test_nothing_is_sent_to_a_unit_that_submitted_the_period(db, settings, push_service):
    w = await make_world()
    s = channel_settings(settings, push_service)
    await submit(w["c1"], w["template"])
    await submit(w["c2"], w["template"])
    for day in days(DUE - timedelta(days=8), DUE + timedelta(days=9)):
        assert (await run_once(s, at(day, 9))).claimed == 0
    assert await InboxMessage.all().count() == 0


async def test_the_province_can_change_the_policy(db, settings):
    w = await make_world()
    s = channel_settings(settings)
    await save_policy(Policy(before_days=[2], reviewer_summary=False, quiet_start="22:00", quiet_end="06:00"), "admin1")
    for day in days(DUE - timedelta(days=8), DUE + timedelta(days=1)):
        await run_once(s, at(day, 6, 30))
    stages = sorted(await ReminderLedger.filter(recipient_id=w["off1"].id).values_list("stage", flat=True))
    assert stages == ["after-1", "before-2"]
    assert await ReminderLedger.filter(recipient_id=w["rev"].id).count() == 0


async def test_the_server_runs_the_scheduler_itself_every_interval(db, settings):
    import asyncio
    import dataclasses

    from server.reminders.scheduler import start_scheduler

    w = await make_world()
    assert start_scheduler(dataclasses.replace(settings, remind_interval=0)) is None  # cron only
    ticks = iter([at(DUE - timedelta(days=7), 22), at(DUE - timedelta(days=7), 7)] + [at(DUE, 8)] * 100)
    scheduler = start_scheduler(dataclasses.replace(settings, remind_interval=1), clock=lambda: next(ticks))
    try:
        for _ in range(50):  # first run in quiet hours (held), the next one a second later sends
            if await InboxMessage.filter(user_id=w["off1"].id).exists():
                break
            await asyncio.sleep(0.1)
    finally:
        await scheduler.stop()
    assert scheduler.task.cancelled()
    stages = await ReminderLedger.filter(recipient_id=w["off1"].id, channel="inbox").values_list("stage", flat=True)
    assert stages[:1] == ["before-7"]


async def test_a_person_who_turned_push_and_email_off_still_finds_the_reminder_in_the_inbox(
    db, settings, push_service, smtp_server
):
    w = await make_world()
    s = channel_settings(settings, push_service, smtp_server)
    await subscribe(push_service, "off1-phone", w["off1"])
    await service.set_prefs(w["off1"].id, False, False, "off1@xa.gov.vn")
    await run_once(s, at(DUE - timedelta(days=1), 9))
    assert push_service.received == [] and smtp_server.messages == []
    assert await InboxMessage.filter(user_id=w["off1"].id).count() == 1


def test_eiso_vapid_makes_a_key_pair_the_push_sender_accepts():
    import subprocess
    import sys

    from server.config import Settings
    from server.push import PushSender

    out = subprocess.run([sys.executable, "-m", "server.cli", "vapid"], capture_output=True, text=True, timeout=60)
    values = dict(line.split("=", 1) for line in out.stdout.split())
    assert (
        set(values) == {"EISO_VAPID_PRIVATE_KEY", "EISO_VAPID_PUBLIC_KEY"}
        and len(values["EISO_VAPID_PUBLIC_KEY"]) == 87
    )
    settings = Settings.from_env({"EISO_VAPID_PRIVATE_KEY": values["EISO_VAPID_PRIVATE_KEY"]})
    assert PushSender(settings).enabled


async def test_a_retry_never_reaches_a_shared_phone_that_another_person_now_uses(db, settings, push_service):
    w = await make_world()
    s = channel_settings(settings, push_service)
    sub = push_service.subscription("shared-phone")
    args = (sub["endpoint"], sub["keys"]["p256dh"], sub["keys"]["auth"])
    await service.subscribe(w["off1"].id, *args, allow_http=True)
    push_service.answers = {"shared-phone": [503]}
    day = DUE - timedelta(days=7)
    await run_once(s, at(day, 8))  # off1's push fails, to be retried in 5 minutes
    await service.subscribe(w["off2"].id, *args, allow_http=True)  # off2 logs in on that phone
    await run_once(s, at(day, 8, 6))
    got = [p.payload["body"] for p in push_service.received]
    assert got and all(body.startswith("Xã Hai") for body in got)  # off2's own reminder, never off1's
    row = await ReminderLedger.get(recipient_id=w["off1"].id, channel__startswith="push:")
    assert row.status == "gone"
