"""`eiso backup` / `eiso restore` round trip, and `eiso move-to-postgres`, on real installations made and
run by the `eiso` command: data and evidence identical after a restore; after a move, every table's rows
equal, the server on PostgreSQL serving the same data, and new rows not colliding with moved ones."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from client.sync_client import SyncClient
from tests.conftest import BACKEND, DEMO_PASSWORD, run_async
from tests.ops_fixtures import eiso, eiso_env, fresh_database, serving

PHOTO = b"\xff\xd8\xff\xe0 bien ban hop ISO " * 300  # a small "photo": its bytes are what matters


def sqlite_file(url: str) -> Path:
    return Path(url[len("sqlite://") :].partition("?")[0])


def table_rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: two databases with equal dumps hold the same data."""
    conn = sqlite3.connect(path)
    try:
        names = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
        ]
        return {n: sorted(conn.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in sorted(names)}
    finally:
        conn.close()


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


async def make_activity(url: str, phone_db: Path) -> dict:
    """What an official does in a day: log in, register the phone, answer, attach a photo, push."""
    phone = SyncClient(phone_db, base_url=url)
    try:
        await phone.login("xa.iatoi", DEMO_PASSWORD)
        await phone.register("điện thoại xã Ia Tơi")
        await phone.pull()
        cid = await monthly_checklist(phone)
        sha = hashlib.sha256(PHOTO).hexdigest()
        r = await phone.http.put(
            f"/api/evidence/{sha}", params={"offset": 0, "size": len(PHOTO), "mime": "image/jpeg"}, content=PHOTO
        )
        assert r.status_code == 200 and r.json()["complete"], r.text
        phone.edit_answer(cid, "difficulties", "Thiếu máy scan", note="Có quyết định số 12/QĐ-UBND")
        phone.edit_answer(
            cid, "reannounce_photo", [{"sha256": sha, "name": "bien-ban.jpg", "size": len(PHOTO), "mime": "image/jpeg"}]
        )
        results = await phone.push()
        assert [r["outcome"] for r in results] == ["applied", "applied"], results
        cookie = phone.http.cookies["eiso_session"]
        return {"checklist": cid, "sha": sha, "cookie": cookie}
    finally:
        await phone.close()


async def monthly_checklist(phone: SyncClient) -> str:
    templates = (await phone.http.get("/api/templates")).json()["templates"]
    monthly = next(t["id"] for t in templates if t["code"] == "monthly_report")
    return next(cid for cid, c in sorted(phone.checklists().items()) if c["template_id"] == monthly)


def read_back(url: str, made: dict) -> tuple[dict, bytes]:
    with httpx.Client(base_url=url, cookies={"eiso_session": made["cookie"]}, timeout=10) as c:
        checklist = c.get(f"/api/checklists/{made['checklist']}")
        photo = c.get(f"/api/evidence/{made['sha']}")
    assert checklist.status_code == 200, checklist.text
    assert photo.status_code == 200, photo.text
    return checklist.json(), photo.content


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    """A SQLite installation with a day's activity, its server stopped; what was made, for reading back."""
    tmp = tmp_path_factory.mktemp("install")
    with fresh_database(tmp, "sqlite") as url:
        env = eiso_env(url, tmp / "evidence")
        eiso("seed", "--demo", env=env, cwd=tmp)
        with serving(env, tmp, tmp / "server.log") as base:
            made = run_async(make_activity(base, tmp / "phone.sqlite3"))
            before = read_back(base, made)
            # the backup is taken while the server runs (SQLite's online backup API)
            eiso("backup", str(tmp / "backup"), env=env, cwd=tmp)
        yield {"tmp": tmp, "env": env, "url": url, "made": made, "before": before}


def test_backup_holds_a_manifest_of_every_table_and_file(installation):
    folder = installation["tmp"] / "backup"
    manifest = json.loads((folder / "manifest.json").read_text())
    counts = manifest["database"]["tables"]
    assert counts["edit"] == 2 and counts["evidence"] == 1 and counts["unit"] > 100
    sha = installation["made"]["sha"]
    assert manifest["evidence"][f"{sha[:2]}/{sha}"] == {"size": len(PHOTO), "sha256": sha}


def test_restore_brings_back_identical_data_and_evidence(installation, tmp_path):
    inst = installation
    restored = tmp_path / "restored"
    env = eiso_env(f"sqlite://{restored / 'eiso.sqlite3'}", restored / "evidence")
    out = eiso("restore", str(inst["tmp"] / "backup"), env=env, cwd=tmp_path)
    assert "Đã khôi phục" in out.stdout
    assert table_rows(restored / "eiso.sqlite3") == table_rows(sqlite_file(inst["url"]))
    assert tree(restored / "evidence") == tree(inst["tmp"] / "evidence")
    with serving(env, tmp_path, tmp_path / "server.log") as base:  # the same session even: it is data too
        assert read_back(base, inst["made"]) == inst["before"]


def test_restore_refuses_to_overwrite_or_to_use_a_damaged_backup(installation, tmp_path):
    inst = installation
    env = eiso_env(inst["url"], inst["tmp"] / "evidence")
    out = eiso("restore", str(inst["tmp"] / "backup"), env=env, cwd=tmp_path, check=False)
    assert out.returncode != 0 and "--force" in out.stderr
    damaged = tmp_path / "damaged"
    import shutil

    shutil.copytree(inst["tmp"] / "backup", damaged)
    photo = next((damaged / "evidence").rglob(inst["made"]["sha"]))
    photo.write_bytes(photo.read_bytes()[:-1] + b"X")
    target = tmp_path / "target"
    env2 = eiso_env(f"sqlite://{target / 'eiso.sqlite3'}", target / "evidence")
    out = eiso("restore", str(damaged), env=env2, cwd=tmp_path, check=False)
    assert out.returncode != 0 and "không khớp" in out.stderr
    assert not (target / "eiso.sqlite3").exists()  # nothing was written


def test_backup_refuses_postgres_naming_pg_dump(tmp_path):
    env = eiso_env("postgres://postgres@127.0.0.1:5432/nothing", tmp_path / "ev")
    out = eiso("backup", str(tmp_path / "b"), env=env, cwd=tmp_path, check=False)
    assert out.returncode != 0 and "pg_dump" in out.stderr


@pytest.mark.postgres
def test_move_to_postgres_keeps_every_row_and_the_server_runs_on_it(installation, tmp_path):
    if BACKEND != "postgres":
        pytest.skip("runs with EISO_TEST_DB=postgres (the suite's PostgreSQL pass)")
    inst = installation
    source_rows = table_rows(sqlite_file(inst["url"]))
    with fresh_database(tmp_path, "postgres") as pg:
        out = eiso("move-to-postgres", "--to", pg, env=inst["env"], cwd=inst["tmp"])
        assert "Đã chuyển" in out.stdout
        counts = run_async(pg_counts(pg, [t for t in source_rows if t != "tortoise_migrations"]))
        assert counts == {t: len(rows) for t, rows in source_rows.items() if t != "tortoise_migrations"}
        for table, cols in SAMPLED.items():  # a few tables compared row by row, value by value
            assert run_async(pg_rows(pg, table, cols)) == sqlite_rows(sqlite_file(inst["url"]), table, cols), table
        env = eiso_env(pg, inst["tmp"] / "evidence")  # the evidence folder stays where it is
        with serving(env, tmp_path, tmp_path / "server.log") as base:
            assert read_back(base, inst["made"]) == inst["before"]
            # new rows (a session, a device, an edit) take ids past the moved ones: no duplicate key, no 500
            made = run_async(more_activity(base, tmp_path / "phone2.sqlite3"))
            assert made == ["applied"]
        after = run_async(pg_counts(pg, ["edit", "device", "session"]))
        assert after == {"edit": counts["edit"] + 1, "device": counts["device"] + 1, "session": counts["session"] + 1}


SAMPLED = {
    "answer": ["id", "checklist_id", "item_key", "value", "note", "version"],
    "user": ["id", "username", "password_hash", "unit_id", "role"],
    "unit": ["id", "code", "name", "parent_id"],
    "evidence": ["sha256", "size", "mime", "complete", "unit_id"],
}


def sqlite_rows(path: Path, table: str, cols: list[str]) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(f'SELECT {", ".join(cols)} FROM "{table}" ORDER BY 1').fetchall()
    finally:
        conn.close()
    return [tuple(bool(v) if c == "complete" else v for c, v in zip(cols, r)) for r in rows]


async def pg_rows(url: str, table: str, cols: list[str]) -> list[tuple]:
    import asyncpg

    conn = await asyncpg.connect("postgresql://" + url.split("://", 1)[1])
    try:
        return [tuple(r) for r in await conn.fetch(f'SELECT {", ".join(cols)} FROM "{table}" ORDER BY 1')]
    finally:
        await conn.close()


async def pg_counts(url: str, tables: list[str]) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect("postgresql://" + url.split("://", 1)[1])
    try:
        return {t: await conn.fetchval(f'SELECT COUNT(*) FROM "{t}"') for t in tables}
    finally:
        await conn.close()


async def more_activity(url: str, phone_db: Path) -> list[str]:
    phone = SyncClient(phone_db, base_url=url)
    try:
        await phone.login("xa.iatoi", DEMO_PASSWORD)
        await phone.register("điện thoại mới")
        await phone.pull()
        cid = await monthly_checklist(phone)
        phone.edit_answer(cid, "proposals", "Thêm máy scan", note="sau khi chuyển")
        return [r["outcome"] for r in await phone.push()]
    finally:
        await phone.close()


def test_a_backup_taken_during_pushes_is_consistent_and_holds_what_was_acknowledged_before(tmp_path):
    """SQLite's online backup while two phones push without pause: the copy passes integrity_check, every
    device's recorded seqs in it are whole (no half transaction), and it holds every edit acknowledged
    before the backup started."""
    import asyncio
    import sys

    with fresh_database(tmp_path, "sqlite") as url:
        env = eiso_env(url, tmp_path / "evidence")
        eiso("seed", "--demo", env=env, cwd=tmp_path)
        with serving(env, tmp_path, tmp_path / "server.log") as base:

            async def main() -> tuple[dict, int]:
                stop = asyncio.Event()
                acked: dict[str, int] = {}

                async def pushing(username: str) -> None:
                    phone = SyncClient(tmp_path / f"{username}.sqlite3", base_url=base)
                    try:
                        await phone.login(username, DEMO_PASSWORD)
                        await phone.register(username)
                        await phone.pull()
                        cid = await monthly_checklist(phone)
                        n = 0
                        while not stop.is_set():
                            for _ in range(20):
                                n += 1
                                phone.edit_answer(cid, "difficulties", f"{username} {n}")
                            results = await phone.push()
                            acked[phone.device_id] = max(r["seq"] for r in results)
                    finally:
                        await phone.close()

                tasks = [asyncio.create_task(pushing(u)) for u in ("xa.iatoi", "xa.tumorong")]
                while len(acked) < 2:
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.5)
                before = dict(acked)
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "server.cli", "backup", str(tmp_path / "backup"),
                    env={**env, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}, cwd=tmp_path,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                )  # fmt: skip
                out, err = await proc.communicate()
                assert proc.returncode == 0, err.decode()
                stop.set()
                await asyncio.gather(*tasks)
                return before, sum(acked.values())

            before, total_acked = run_async(main())
    copy = sqlite3.connect(tmp_path / "backup" / "database.sqlite3")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        seqs = dict(copy.execute("SELECT id, last_seq FROM device"))
        for device, last_seq in seqs.items():
            count, top = copy.execute("SELECT COUNT(*), MAX(seq) FROM edit WHERE device_id = ?", (device,)).fetchone()
            assert count == last_seq == (top or 0)  # whole pushes only
        for device, seq in before.items():
            assert seqs[device] >= seq  # nothing acknowledged before the backup is missing from it
        assert sum(seqs.values()) < total_acked  # the phones went on pushing while it was taken
    finally:
        copy.close()
