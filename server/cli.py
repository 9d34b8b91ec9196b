"""The `eiso` command: serve, seed, createuser, migrate, simulate, the account commands (devices,
revoke-device, end-sessions, deactivate, reactivate), and reminders (vapid, remind)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import secrets
import sys
from pathlib import Path

from tortoise import Tortoise

from sync.vocabulary import ROLES

from .config import Settings
from .db import tortoise_config


def progress_bar(stage: str, done: int, total: int) -> None:
    """A one-line progress bar on stderr (seed loading, simulations)."""
    width = 30
    filled = int(width * done / total) if total else width
    end = "\n" if done >= total else ""
    sys.stderr.write(f"\r{stage:<24} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
    sys.stderr.flush()


def demo_password(settings: Settings) -> tuple[str, bool]:
    """EISO_DEMO_PASSWORD, else one generated once and kept in data/demo-password (so reruns match)."""
    if settings.demo_password:
        return settings.demo_password, False
    path = Path("data") / "demo-password"
    if path.exists():
        return path.read_text().strip(), True
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(9)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password, True


async def _seed(settings: Settings, demo: bool) -> None:
    from seed.load import load_seed

    from .migrate import upgrade

    await upgrade(settings.database_url)
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        password, generated = demo_password(settings) if demo else (None, False)
        report = await load_seed(demo=demo, demo_password=password, progress=progress_bar)
        if demo:
            from seed.demo import ensure_demo_checklists

            await ensure_demo_checklists()
    finally:
        await Tortoise.close_connections()
    print(
        f"Đơn vị: {report.units_created} mới, {report.units_updated} cập nhật; "
        f"mẫu phiếu: {report.templates_created} mới; hạn: {report.deadlines_created} mới."
    )
    if report.anomalies:
        print(f"\nNhững điểm bất thường trong dữ liệu nguồn ({len(report.anomalies)}), giữ nguyên như văn bản:")
        for line in report.anomalies:
            print(f"  - {line}")
    if demo:
        print("\nTài khoản demo" + (" (mật khẩu tạo tự động, lưu ở data/demo-password)" if generated else "") + ":")
        for login in report.logins:
            print(f"  {login}")
        print(f"  Mật khẩu: {password}")


def cmd_seed(args, settings: Settings) -> None:
    asyncio.run(_seed(settings, args.demo))


def cmd_migrate(args, settings: Settings) -> None:
    from .migrate import upgrade

    asyncio.run(upgrade(settings.database_url))
    print("Cơ sở dữ liệu đã được cập nhật.")


def cmd_serve(args, settings: Settings) -> None:
    import uvicorn

    from .app import create_app
    from .durability import NotDurable, check_database, describe
    from .migrate import upgrade
    from .observability import log_config

    settings.host, settings.port = args.host or settings.host, args.port or settings.port
    asyncio.run(upgrade(settings.database_url))
    try:
        facts = asyncio.run(check_database(settings))
    except NotDurable as exc:
        raise SystemExit(str(exc)) from None
    print(f"Cơ sở dữ liệu: {describe(facts)}", flush=True)
    url = f"http://{settings.host}:{settings.port}/"
    print(f"e-ISO đang chạy tại {url}  (ứng dụng cho điện thoại: {url}app/)", flush=True)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        proxy_headers=False,  # forwarded headers are read by server/security.py, from EISO_TRUSTED_PROXIES only
        log_config=log_config(args.log_level),  # one JSON line per request, with its request id
        access_log=False,  # ours (server/observability.py) has the route template, the user and the id
        workers=1,
    )


async def _createuser(settings: Settings, args) -> None:
    from .auth import hash_password
    from .models import AuditLog, Unit, User

    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        unit = await Unit.get_or_none(code=args.unit)
        if unit is None:
            raise SystemExit(f"Không có đơn vị mã {args.unit!r} (xem /api/units).")
        if await User.exists(username=args.username):
            raise SystemExit(f"Tài khoản {args.username!r} đã tồn tại.")
        password = args.password or settings.new_password or getpass.getpass("Mật khẩu: ")
        if len(password) < 8:
            raise SystemExit("Mật khẩu phải có ít nhất 8 ký tự.")
        await User.create(
            username=args.username,
            full_name=args.full_name or "",
            role=args.role,
            unit=unit,
            password_hash=hash_password(password),
        )
        await AuditLog.create(username="cli", action="user.create", object_type="user", object_id=args.username)
        print(f"Đã tạo tài khoản {args.username} ({args.role}) cho {unit.name}.")
    finally:
        await Tortoise.close_connections()


def cmd_createuser(args, settings: Settings) -> None:
    asyncio.run(_createuser(settings, args))


async def _accounts(settings: Settings, args) -> None:
    """devices / revoke-device / end-sessions / deactivate / reactivate: the lost-phone procedure and
    account locking from a terminal, through the same services as the /users page (audited as "cli")."""
    from sync.models import Device

    from .models import User
    from .pages.render import vn_datetime_ms
    from .services import accounts, devices

    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        if args.command == "revoke-device":
            device = await Device.get_or_none(id=args.device_id)
            if device is None:
                raise SystemExit(f"Không có thiết bị {args.device_id!r} (xem `eiso devices TÊN`).")
            owner = await User.get(id=device.user_id)  # type: ignore[attr-defined]
            await devices.revoke(device, owner, by="cli")
            print(f"Đã thu hồi thiết bị {device.id} của {owner.username}; phiên đăng nhập của thiết bị đã kết thúc.")
            return
        user = await User.get_or_none(username=args.username)
        if user is None:
            raise SystemExit(f"Không có tài khoản {args.username!r}.")
        if args.command == "devices":
            rows = await devices.of_user(user.id)
            if not rows:
                print(f"{user.username} chưa đăng ký thiết bị nào.")
            for d in rows:
                state = f"đã thu hồi {vn_datetime_ms(d.revoked_ms)} ({d.revoked_by})" if d.revoked_ms else "đang dùng"
                last = vn_datetime_ms(d.last_push_ms) or "chưa gửi"
                print(f"{d.id}  {d.name or '(không tên)'}  · lần gửi cuối: {last}  · {state}")
        elif args.command == "end-sessions":
            ended = await accounts.end_sessions(user, "admin", by="cli")
            print(f"Đã kết thúc {ended} phiên đăng nhập của {user.username}.")
        else:
            active = args.command == "reactivate"
            await accounts.set_active(user, active, by="cli")
            print(f"Đã {'mở khoá' if active else 'khoá'} tài khoản {user.username}.")
    finally:
        await Tortoise.close_connections()


def cmd_accounts(args, settings: Settings) -> None:
    asyncio.run(_accounts(settings, args))


async def _import_units(settings: Settings, args) -> None:
    """A province's new list of units from a terminal: the same preview and apply as /admin/units, as the
    provincial admin named by --as (the audit log names them)."""
    from .errors import ApiError
    from .models import User
    from .services import unit_import

    data = Path(args.file).read_bytes()
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        actor = await User.get_or_none(username=args.as_user, active=True).select_related("unit")
        if actor is None:
            raise SystemExit(f"Không có tài khoản đang hoạt động {args.as_user!r}.")
        try:
            plan = await (
                unit_import.apply(actor, data, args.apply) if args.apply else unit_import.plan_of(actor, data)
            )
        except ApiError as exc:
            lines = [exc.message] + [f"  Dòng {e['row']}: {e['message']}" for e in exc.extra.get("errors", [])]
            raise SystemExit("\n".join(lines)) from None
        for a in plan.actions:
            where = f"dòng {a.row}" if a.row else "không có trong tệp"
            change = f"{a.old} → {a.new}" if a.old else a.new
            print(f"{a.kind:<7} {a.code:<12} {a.name}  {change}  ({where})")
        for w in plan.warnings:
            print(f"Lưu ý: {w}")
        counts = ", ".join(f"{k}: {v}" for k, v in plan.counts().items())
        if args.apply:
            print(f"Đã áp dụng ({counts}).")
        else:
            print(
                f"Xem trước ({counts}). Áp dụng: eiso import-units {args.file} --as {args.as_user} --apply {plan.digest}"
            )
    finally:
        await Tortoise.close_connections()


def cmd_import_units(args, settings: Settings) -> None:
    asyncio.run(_import_units(settings, args))


def cmd_simulate(args, settings: Settings) -> None:
    import json

    from client.simulate import simulate

    if args.url is None:
        asyncio.run(_migrated(settings))
    password = settings.demo_password or (demo_password(settings)[0] if Path("data/demo-password").exists() else None)

    async def run() -> dict:
        try:
            return await simulate(
                args.devices,
                args.units,
                args.edits,
                args.url,
                progress_bar,
                username=args.user,
                password=password,
                settings=settings,
            )
        finally:  # an open aiosqlite connection would keep the process alive
            await Tortoise.close_connections()

    summary = asyncio.run(run())
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    if summary.get("lost") or not summary.get("converged"):
        raise SystemExit("Mô phỏng: có sửa đổi bị mất hoặc thiết bị chưa khớp với máy chủ.")


def cmd_vapid(args, settings: Settings) -> None:
    from .push import make_vapid_keys

    private, public = make_vapid_keys()
    print(f"EISO_VAPID_PRIVATE_KEY={private}")
    print(f"EISO_VAPID_PUBLIC_KEY={public}")


def cmd_remind(args, settings: Settings) -> None:
    import json
    from datetime import datetime

    from .reminders.run import run_once

    now = datetime.fromisoformat(args.now) if args.now else None
    if now is not None and now.tzinfo is None:
        raise SystemExit("--now phải có múi giờ, ví dụ 2026-12-08T07:00:00+07:00")

    async def run():
        await Tortoise.init(config=tortoise_config(settings.database_url))
        try:
            return await run_once(settings, now)
        finally:
            await Tortoise.close_connections()

    report = asyncio.run(run())
    print(json.dumps(vars(report), ensure_ascii=False))


async def _migrated(settings: Settings) -> None:
    from .migrate import upgrade

    await upgrade(settings.database_url)


# --- operations: backup, restore, moving SQLite to PostgreSQL (server/backup.py, docs/operations.md)


def cmd_backup(args, settings: Settings) -> None:
    from .backup import BackupError, backup

    try:
        manifest = backup(settings.database_url, Path(settings.evidence_dir), Path(args.folder))
    except BackupError as exc:
        raise SystemExit(str(exc)) from None
    rows = sum(manifest["database"]["tables"].values())
    print(f"Đã sao lưu vào {args.folder}: {rows} dòng dữ liệu, {len(manifest['evidence'])} tệp minh chứng.")


def cmd_restore(args, settings: Settings) -> None:
    from .backup import BackupError, restore

    try:
        manifest = restore(Path(args.folder), settings.database_url, Path(settings.evidence_dir), force=args.force)
    except BackupError as exc:
        raise SystemExit(str(exc)) from None
    asyncio.run(_migrated(settings))  # a backup from an older version is brought up to this one
    print(f"Đã khôi phục bản sao lưu lúc {manifest['created']} ({len(manifest['evidence'])} tệp minh chứng).")


def cmd_move_to_postgres(args, settings: Settings) -> None:
    from .backup import BackupError, move_to_postgres
    from .config import normalise_db_url
    from .db import is_postgres
    from .migrate import upgrade

    target = normalise_db_url(args.to)
    if not is_postgres(target):
        raise SystemExit("--to phải là địa chỉ PostgreSQL, ví dụ postgres://eiso@127.0.0.1:5432/eiso")
    asyncio.run(upgrade(settings.database_url))  # both sides at this version's schema
    asyncio.run(upgrade(target))
    try:
        copied = asyncio.run(move_to_postgres(settings.database_url, target))
    except BackupError as exc:
        raise SystemExit(str(exc)) from None
    for table, n in copied.items():
        print(f"  {table:<24} {n}")
    print(
        f"Đã chuyển {sum(copied.values())} dòng sang PostgreSQL. Minh chứng vẫn ở {settings.evidence_dir}. "
        "Đặt DATABASE_URL theo địa chỉ mới rồi khởi động lại máy chủ."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="eiso", description="e-ISO: phiếu ISO 9001:2015 ngoại tuyến")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="chạy máy chủ web")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("seed", help="nạp dữ liệu Kon Tum (chạy lại không thay đổi gì)")
    p.add_argument("--demo", action="store_true", help="thêm tài khoản demo và tiến độ demo")
    p.set_defaults(func=cmd_seed)

    p = sub.add_parser("migrate", help="cập nhật cấu trúc cơ sở dữ liệu")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("createuser", help="tạo tài khoản")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--unit", required=True, help="mã đơn vị, ví dụ KT-147")
    p.add_argument("--full-name")
    p.add_argument("--password", help="nếu bỏ trống: EISO_NEW_PASSWORD hoặc hỏi")
    p.set_defaults(func=cmd_createuser)

    p = sub.add_parser("devices", help="liệt kê thiết bị của một tài khoản")
    p.add_argument("username")
    p.set_defaults(func=cmd_accounts)

    p = sub.add_parser("revoke-device", help="thu hồi thiết bị (mất điện thoại) và kết thúc phiên của nó")
    p.add_argument("device_id")
    p.set_defaults(func=cmd_accounts)

    p = sub.add_parser("end-sessions", help="kết thúc mọi phiên đăng nhập của một tài khoản")
    p.add_argument("username")
    p.set_defaults(func=cmd_accounts)

    p = sub.add_parser("deactivate", help="khoá tài khoản và kết thúc mọi phiên của nó")
    p.add_argument("username")
    p.set_defaults(func=cmd_accounts)

    p = sub.add_parser("reactivate", help="mở khoá tài khoản")
    p.add_argument("username")
    p.set_defaults(func=cmd_accounts)

    p = sub.add_parser("simulate", help="mô phỏng N thiết bị ở M đơn vị sửa ngoại tuyến rồi đồng bộ")
    p.add_argument("--devices", type=int, default=30)
    p.add_argument("--units", type=int, default=10)
    p.add_argument("--edits", type=int, default=100, help="số sửa đổi mỗi thiết bị")
    p.add_argument("--url", help="địa chỉ máy chủ đang chạy; bỏ trống để chạy trong tiến trình")
    p.add_argument("--user", default="admin", help="tài khoản dùng cho các thiết bị (mặc định: admin)")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("vapid", help="tạo cặp khoá VAPID cho thông báo đẩy")
    p.set_defaults(func=cmd_vapid)

    p = sub.add_parser("remind", help="gửi nhắc hạn đến hạn (cho cron; chạy cùng lúc với máy chủ vẫn an toàn)")
    p.add_argument("--now", help="thời điểm chạy (ISO 8601 có múi giờ); bỏ trống: bây giờ")
    p.set_defaults(func=cmd_remind)

    # administration (issue 16)
    p = sub.add_parser("import-units", help="nhập danh sách đơn vị mới (CSV/XLSX): xem trước, rồi --apply MÃ")
    p.add_argument("file")
    p.add_argument("--as", dest="as_user", default="admin", help="tài khoản quản trị cấp tỉnh (mặc định: admin)")
    p.add_argument(
        "--apply", metavar="DIGEST", help="mã xem trước in ra ở lần chạy trước: áp dụng đúng các thay đổi đó"
    )
    p.set_defaults(func=cmd_import_units)
    # operations
    p = sub.add_parser(
        "backup", help="sao lưu cơ sở dữ liệu SQLite và minh chứng vào một thư mục (chạy được khi máy chủ đang chạy)"
    )
    p.add_argument("folder", help="thư mục mới cho bản sao lưu")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="khôi phục một bản sao lưu (dừng máy chủ trước)")
    p.add_argument("folder")
    p.add_argument("--force", action="store_true", help="thay cả cơ sở dữ liệu và minh chứng đang có")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("move-to-postgres", help="chuyển dữ liệu SQLite sang một cơ sở dữ liệu PostgreSQL trống")
    p.add_argument("--to", required=True, help="postgres://user@host:5432/db")
    p.set_defaults(func=cmd_move_to_postgres)

    args = parser.parse_args(argv)
    args.func(args, Settings.from_env())


if __name__ == "__main__":
    main()
