"""`eiso backup`, `eiso restore` and `eiso move-to-postgres`: a SQLite installation's data and evidence
kept, brought back, or moved to PostgreSQL.

A backup is a folder: `database.sqlite3` (SQLite's online backup API: a consistent copy taken while the
server runs and writes), `evidence/` (the evidence store, copied after the database, so every file the
copy names is there: stored files are named by their hash and never change), and `manifest.json` (when,
from where, each table's row count, each file's size and SHA-256). `restore` checks every file against
the manifest before it replaces anything, and refuses to overwrite an existing database unless told to.

PostgreSQL installations are backed up with `pg_dump` and the evidence folder (docs/operations.md).

`move_to_postgres` copies every table of a SQLite database into an empty PostgreSQL database made by our
migrations, in one transaction, parents before children (a self-reference is filled in afterwards), then
moves each id sequence past the largest id copied, so new rows never collide with moved ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
DATABASE = "database.sqlite3"
EVIDENCE = "evidence"
FORMAT = 1
SKIP_TABLES = {"tortoise_migrations"}  # each database keeps its own record of the migrations applied


class BackupError(Exception):
    """A refusal the operator reads (Vietnamese): nothing was changed."""


def sqlite_path(database_url: str) -> Path:
    if not database_url.startswith("sqlite://"):
        raise BackupError(
            "Lệnh này dành cho cơ sở dữ liệu SQLite. Với PostgreSQL, sao lưu bằng pg_dump và thư mục minh chứng "
            "(xem docs/operations.md)."
        )
    return Path(database_url[len("sqlite://") :].partition("?")[0])


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ]
    return {n: conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in sorted(names)}


def _files(root: Path) -> dict[str, dict]:
    """Every file under `root` by relative path: size and SHA-256 (health probes left out)."""
    out = {}
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.startswith(".healthz-"):
                out[path.relative_to(root).as_posix()] = {"size": path.stat().st_size, "sha256": file_sha256(path)}
    return out


def backup(database_url: str, evidence_dir: Path, out: Path) -> dict:
    """Write a backup folder `out` (which must not exist yet); returns its manifest."""
    source = sqlite_path(database_url)
    if not source.exists():
        raise BackupError(f"Không thấy tệp cơ sở dữ liệu {source}.")
    if out.exists():
        raise BackupError(f"{out} đã có; chọn một thư mục mới cho bản sao lưu.")
    work = out.with_name(out.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(work / DATABASE)
    try:
        src.execute("PRAGMA busy_timeout = 10000")
        src.backup(dst)  # page by page, consistent even while the server writes
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        counts = table_counts(dst)
    finally:
        dst.close()
        src.close()
    if Path(evidence_dir).is_dir():
        shutil.copytree(evidence_dir, work / EVIDENCE, ignore=shutil.ignore_patterns(".healthz-*"))
    else:
        (work / EVIDENCE).mkdir()
    manifest = {
        "format": FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "source": {"database": str(source), "evidence": str(evidence_dir)},
        "database": {"file": DATABASE, "sha256": file_sha256(work / DATABASE), "tables": counts},
        "evidence": _files(work / EVIDENCE),
    }
    (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    work.rename(out)  # a backup folder exists only once it is whole
    return manifest


def verify(folder: Path) -> dict:
    """The manifest of a backup whose every file matches it, or a BackupError naming what does not."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} không phải bản sao lưu của e-ISO (thiếu hoặc hỏng {MANIFEST}).") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Bản sao lưu định dạng {manifest.get('format')} không đọc được bằng phiên bản này.")
    db = folder / manifest["database"]["file"]
    if not db.is_file() or file_sha256(db) != manifest["database"]["sha256"]:
        raise BackupError(f"Tệp cơ sở dữ liệu trong {folder} đã bị thay đổi hoặc hỏng.")
    found = _files(folder / EVIDENCE)
    if found != manifest["evidence"]:
        listed = manifest["evidence"]
        bad = sorted(name for name in set(found) | set(listed) if found.get(name) != listed.get(name))[:3]
        raise BackupError(f"Tệp minh chứng không khớp bản kê: {', '.join(bad)}")
    return manifest


def restore(folder: Path, database_url: str, evidence_dir: Path, *, force: bool = False) -> dict:
    """Put a verified backup in place of the configured database and evidence store (server stopped)."""
    manifest = verify(folder)
    target = sqlite_path(database_url)
    evidence_dir = Path(evidence_dir)
    if not force and (target.exists() or (evidence_dir.is_dir() and any(evidence_dir.iterdir()))):
        raise BackupError(
            f"{target} hoặc {evidence_dir} đã có dữ liệu. Dừng máy chủ rồi chạy lại với --force để thay bằng bản sao lưu."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".restoring")
    shutil.copyfile(folder / manifest["database"]["file"], tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    for suffix in ("-wal", "-shm"):  # an old write-ahead log must not be replayed onto the restored file
        Path(str(target) + suffix).unlink(missing_ok=True)
    os.replace(tmp, target)
    staging = evidence_dir.with_name(evidence_dir.name + ".restoring")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(folder / EVIDENCE, staging)
    if evidence_dir.exists():
        shutil.rmtree(evidence_dir)
    staging.rename(evidence_dir)
    return manifest


# ------------------------------------------------------------------------------------ SQLite -> PostgreSQL


def _pg_value(value: Any, pg_type: str) -> Any:
    """A SQLite value as asyncpg wants it for a column of `pg_type`."""
    if value is None:
        return None
    if pg_type == "boolean":
        return bool(value)
    if pg_type.startswith("timestamp"):
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if pg_type == "timestamp without time zone" and moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment
    if pg_type == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if pg_type in ("integer", "bigint", "smallint"):
        return int(value)
    if pg_type in ("double precision", "real"):
        return float(value)
    if pg_type == "numeric":
        return Decimal(str(value))
    if pg_type in ("json", "jsonb"):
        return value if isinstance(value, str) else json.dumps(value)
    if pg_type == "uuid":
        return str(value)
    return value if isinstance(value, str) else str(value)


def _order(tables: list[str], parents: dict[str, set[str]]) -> list[str]:
    """Tables with every table they point at before them (self-references aside)."""
    done: list[str] = []
    pending = sorted(tables)
    while pending:
        ready = [t for t in pending if not (parents.get(t, set()) - {t}) - set(done)]
        if not ready:  # a cycle between tables: none here, but never loop forever
            ready = pending[:1]
        done += ready
        pending = [t for t in pending if t not in ready]
    return done


async def move_to_postgres(database_url: str, target_url: str) -> dict[str, int]:
    """Copy every row of the SQLite database into the empty, migrated PostgreSQL database `target_url`;
    returns the rows copied per table. One transaction: a failure leaves the target empty."""
    import asyncpg

    source = sqlite_path(database_url)
    if not source.exists():
        raise BackupError(f"Không thấy tệp cơ sở dữ liệu {source}.")
    pg_url = "postgresql://" + target_url.split("://", 1)[1]
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    src.row_factory = sqlite3.Row
    conn = await asyncpg.connect(pg_url)
    copied: dict[str, int] = {}
    try:
        columns: dict[str, dict[str, str]] = {}
        for r in await conn.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        ):
            columns.setdefault(r["table_name"], {})[r["column_name"]] = r["data_type"]
        parents: dict[str, set[str]] = {}
        self_refs: dict[str, list[str]] = {}
        for r in await conn.fetch(
            "SELECT tc.table_name AS child, kcu.column_name AS col, ccu.table_name AS parent "
            "FROM information_schema.table_constraints tc "
            "JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name "
            "JOIN information_schema.constraint_column_usage ccu ON tc.constraint_name = ccu.constraint_name "
            "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'"
        ):
            parents.setdefault(r["child"], set()).add(r["parent"])
            if r["child"] == r["parent"]:
                self_refs.setdefault(r["child"], []).append(r["col"])
        src_tables = {
            r[0]
            for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        } - SKIP_TABLES
        missing = sorted(src_tables - set(columns))
        if missing:
            raise BackupError(
                f"PostgreSQL thiếu bảng {', '.join(missing)}: hai cơ sở dữ liệu không cùng phiên bản cấu trúc."
            )
        tables = _order(sorted(src_tables), parents)
        for t in tables:
            if await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{t}")'):
                raise BackupError(
                    f'PostgreSQL đích đã có dữ liệu (bảng "{t}"): chỉ chuyển vào một cơ sở dữ liệu trống.'
                )
        src.execute("BEGIN")  # one read snapshot of the whole SQLite file
        async with conn.transaction():
            for t in tables:
                cols = [c for c in (r[1] for r in src.execute(f'PRAGMA table_info("{t}")')) if c in columns[t]]
                later = [c for c in self_refs.get(t, []) if c in cols]
                rows = src.execute(f'SELECT {", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)} FROM "{t}"').fetchall()
                records = [
                    tuple(None if c in later else _pg_value(row[c], columns[t][c]) for c in cols) for row in rows
                ]
                if records:
                    await conn.copy_records_to_table(t, records=records, columns=cols)
                key = "id" if "id" in cols else None
                if later and rows and key:
                    for c in later:
                        pairs = [(row[c], row[key]) for row in rows if row[c] is not None]
                        if pairs:
                            await conn.executemany(f'UPDATE "{t}" SET "{c}" = $1 WHERE "{key}" = $2', pairs)
                copied[t] = len(rows)
            for t in tables:
                if "id" not in columns[t]:
                    continue
                seq = await conn.fetchval("SELECT pg_get_serial_sequence($1, 'id')", f'"{t}"')
                if seq:
                    await conn.execute(f'SELECT setval($1, COALESCE((SELECT MAX(id) FROM "{t}"), 0) + 1, false)', seq)
        src.execute("COMMIT")
        await conn.execute("ANALYZE")  # the planner needs statistics at once (docs/deployment.md)
    finally:
        await conn.close()
        src.close()
    return copied
