"""Benchmark: reminder fan-out, messages per second to a local Web Push endpoint and to an SMTP server.

N communes, one official each, each with a push subscription (a key pair made as a browser makes one) and
a mailbox, all late for one report. One `run_once` is timed with only push configured (the messages it
claims: inbox + push), another, on a later day, with only email configured (inbox + email). Baselines in
the same run: pywebpush sending the same number of messages to the same endpoint with the same
concurrency but no planning, ledger or database, and smtplib sending the same number of emails over one
connection. The ratio says what the ledger (claim, then record) costs over bare sending.

    python bench/bench_reminders.py [--units 500]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x python bench/bench_reminders.py
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import smtplib
import sys
import time
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from tortoise import Tortoise  # noqa: E402

from bench.common import analyze, free_port, fresh_database, init_schema  # noqa: E402

DUE = date(2026, 12, 15)


class Counter:
    def __init__(self):
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        return "250 OK"


async def build(units: int, push_base: str) -> None:
    from server.models import Deadline, Template, Unit, User
    from server.push import b64url
    from server.reminders.models import NotifyPrefs, PushSubscription

    province = await Unit.create(code="B", kind="province", level=0, source_name="B", name="Tỉnh", name_folded="tinh")
    tpl = await Template.create(code="bench", version=1, title="Báo cáo", period_kind="once")
    await Deadline.create(code="B-ONCE", title="Báo cáo thử", template=tpl, unit=province, level=1, due_date=DUE)
    key = ec.generate_private_key(ec.SECP256R1())  # one browser key pair for all: encryption cost is the same
    p256dh = b64url(
        key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    auth = b64url(os.urandom(16))
    communes = [
        Unit(
            code=f"B-{i}",
            kind="commune",
            level=1,
            parent=province,
            source_name=f"Xã {i}",
            name=f"Xã {i}",
            name_folded=f"xa {i}",
        )
        for i in range(units)
    ]
    await Unit.bulk_create(communes)
    ids = await Unit.filter(level=1).values_list("id", flat=True)
    await User.bulk_create([User(username=f"o{uid}", role="official", unit_id=uid, password_hash="x") for uid in ids])
    users = await User.all().values_list("id", flat=True)
    await NotifyPrefs.bulk_create([NotifyPrefs(user_id=u, email_address=f"o{u}@xa.gov.vn") for u in users])
    await PushSubscription.bulk_create(
        [
            PushSubscription(
                user_id=u, endpoint=f"{push_base}/push/{u}", endpoint_hash=f"h{u}", p256dh=p256dh, auth=auth
            )
            for u in users
        ]
    )
    await analyze()
    return {"endpoint": f"{push_base}/push/base", "keys": {"p256dh": p256dh, "auth": auth}}


async def push_baseline(settings, sub: dict, n: int) -> float:
    from server.push import PushSender
    from server.reminders.run import PUSH_CONCURRENCY

    gate = asyncio.Semaphore(PUSH_CONCURRENCY)
    payload = {
        "title": "Sắp đến hạn: Báo cáo thử",
        "body": "Xã 1 chưa nộp «Báo cáo thử».",
        "url": "/app/#/",
        "tag": "1/once",
    }
    async with PushSender(settings) as sender:

        async def one():
            async with gate:
                out = await sender.send(sub, payload, topic="1-once")
                assert out.status == "sent", out

        t = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return n / (time.perf_counter() - t)


def smtp_baseline(port: int, n: int) -> float:
    t = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as smtp:
        for i in range(n):
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = "iso@example.gov.vn", f"o{i}@xa.gov.vn", "Sắp đến hạn: Báo cáo thử"
            msg.set_content("Xã 1 chưa nộp «Báo cáo thử».")
            msg.add_alternative("<p>Xã 1 chưa nộp «Báo cáo thử».</p>", subtype="html")
            smtp.send_message(msg)
    return n / (time.perf_counter() - t)


async def main(units: int) -> None:
    from server.config import Settings
    from server.db import tortoise_config
    from server.push import make_vapid_keys
    from server.reminders.run import run_once
    from sync.periods import VN

    pushes = Counter()

    async def receive(request):
        await request.read()
        pushes.n += 1
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/push/{name}", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    mails = Counter()
    smtp = Controller(mails, hostname="127.0.0.1", port=free_port())
    smtp.start()

    url, cleanup = await fresh_database()
    try:
        await init_schema(url)
        await Tortoise.init(config=tortoise_config(url))
        sub = await build(units, f"http://127.0.0.1:{port}")
        private, public = make_vapid_keys()
        base = dataclasses.replace(
            Settings.from_env({"DATABASE_URL": url}),
            vapid_private_key=private,
            vapid_public_key=public,
            push_allow_http=True,
        )
        only_push = base
        only_mail = dataclasses.replace(
            base, vapid_private_key="", smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False
        )

        def at(d: date) -> datetime:
            return datetime(d.year, d.month, d.day, 8, tzinfo=VN)

        t = time.perf_counter()
        r1 = await run_once(only_push, at(DUE - timedelta(days=7)))
        push_s = time.perf_counter() - t
        t = time.perf_counter()
        r2 = await run_once(only_mail, at(DUE - timedelta(days=3)))
        mail_s = time.perf_counter() - t
        t = time.perf_counter()
        r3 = await run_once(only_push, at(DUE - timedelta(days=7)) + timedelta(hours=1))  # all taken: nothing to do
        idle_s = time.perf_counter() - t
        assert r1.sent["push"] == pushes.n == units and r2.sent["email"] == mails.n == units and r3.claimed == 0, (
            r1,
            r2,
            r3,
        )
        push_base_rate = await push_baseline(only_push, sub, units)
        mail_base_rate = await asyncio.to_thread(smtp_baseline, smtp.port, units)
        backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        print(f"reminder fan-out, {units} officials, {backend}")
        print(
            f"  push : {units / push_s:8.0f} messages/s through run_once ({r1.claimed} claimed incl. inbox, {push_s:.2f} s)"
        )
        print(f"         {push_base_rate:8.0f} messages/s bare pywebpush, same endpoint and concurrency (baseline)")
        print(f"         ratio {units / push_s / push_base_rate:.2f}")
        print(
            f"  email: {units / mail_s:8.0f} messages/s through run_once ({r2.claimed} claimed incl. inbox, {mail_s:.2f} s)"
        )
        print(f"         {mail_base_rate:8.0f} messages/s bare smtplib, one connection (baseline)")
        print(f"         ratio {units / mail_s / mail_base_rate:.2f}")
        print(f"  a run with everything already sent: {idle_s * 1000:.0f} ms")
    finally:
        await Tortoise.close_connections()
        await cleanup()
        smtp.stop()
        await runner.cleanup()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=500)
    asyncio.run(main(ap.parse_args().units))
