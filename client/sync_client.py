"""A reference sync client with its own local store (one SQLite file), as a phone would have.

Used by the tests, the benchmarks and `eiso simulate`; written from docs/sync-protocol.md alone.

- Edits are saved in the local outbox (committed to SQLite) with the next sequence number before anything
  is sent: durable capture.
- `push()` sends the outbox in increasing seq, in batches; results are recorded and the edits leave the
  outbox only after the server answered (so a lost answer means a resend, which the server recognises).
- `pull()` pages through the server's changes and applies them to the local replica; `reset` drops the
  replica first (scope changed, or first sync).
- The HTTP transport is injectable (`transport=`), so tests can lose answers, duplicate and reorder
  requests, or restart the server in between.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from sync.protocol import PROTOCOL_VERSION

_UNSET = object()

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, edit TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outcome (seq INTEGER PRIMARY KEY, outcome TEXT NOT NULL, reason TEXT NOT NULL,
                                    result TEXT NOT NULL, edit TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checklist (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answer (checklist_id TEXT NOT NULL, item_key TEXT NOT NULL, data TEXT NOT NULL,
                                   PRIMARY KEY (checklist_id, item_key));
CREATE TABLE IF NOT EXISTS conflict (id TEXT PRIMARY KEY, checklist_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alias (id TEXT PRIMARY KEY, checklist_id TEXT NOT NULL);
"""


class SyncFailed(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status, self.body = status, body

    @property
    def code(self) -> str:
        return self.body.get("error", "") if isinstance(self.body, dict) else ""


class SyncClient:
    def __init__(
        self,
        path: str | Path,
        *,
        base_url: str = "http://testserver",
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], int] | None = None,
        batch_size: int = 500,
        use_gzip: bool = True,
        timeout: float = 60.0,
    ) -> None:
        self.path = str(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        self.clock = clock or (lambda: int(time.time() * 1000))
        self.batch_size = batch_size
        self.use_gzip = use_gzip
        self.bytes_sent = 0
        self.http = httpx.AsyncClient(transport=transport, base_url=base_url, timeout=timeout)
        cookie = self._meta("cookie")
        if cookie:
            self.http.cookies.set("eiso_session", cookie)

    # ------------------------------------------------------------------ local store
    def _meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def _set_meta(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(value)))

    @property
    def device_id(self) -> str | None:
        return self._meta("device_id")

    @property
    def username(self) -> str | None:
        return self._meta("username")

    async def close(self) -> None:
        await self.http.aclose()
        self.db.close()

    # ------------------------------------------------------------------ account and device
    async def login(self, username: str, password: str) -> None:
        self.http.cookies.clear()
        r = await self.http.post("/api/session", json={"username": username, "password": password})
        if r.status_code != 201:
            raise SyncFailed(r.status_code, _body(r))
        self._set_meta("username", username)
        self._set_meta("cookie", next((c.value for c in self.http.cookies.jar if c.name == "eiso_session"), ""))

    async def register(self, name: str = "reference client") -> str:
        if self.device_id:
            return self.device_id
        r = await self.http.post("/api/devices", json={"name": name})
        if r.status_code != 201:
            raise SyncFailed(r.status_code, _body(r))
        self._set_meta("device_id", r.json()["device_id"])
        return self.device_id  # type: ignore[return-value]

    # ------------------------------------------------------------------ edits (saved before sending)
    def _enqueue(self, edit: dict) -> int:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            seq = int(self._meta("next_seq", "1"))  # type: ignore[arg-type]
            edit = {"seq": seq, "device_ms": self.clock(), **edit}
            self.db.execute("INSERT INTO outbox (seq, edit) VALUES (?, ?)", (seq, json.dumps(edit, ensure_ascii=False)))
            self._set_meta("next_seq", seq + 1)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return seq

    def create_checklist(self, unit_id: int, template_id: int, period: str) -> str:
        """Start a checklist offline: the id is made here, the checklist is local at once and the create
        edit waits in the outbox like any other. Returns the id."""
        checklist_id = str(uuid.uuid4())
        local = {"id": checklist_id, "unit_id": unit_id, "template_id": template_id, "period": period}
        self.db.execute(
            "INSERT INTO checklist (id, data) VALUES (?, ?)",
            (checklist_id, json.dumps({**local, "status": "draft", "version": 0, "local": True})),
        )
        self._enqueue({"kind": "create", "checklist_id": checklist_id, **{k: local[k] for k in local if k != "id"}})
        return checklist_id

    def canonical(self, checklist_id: str) -> str:
        """The id the server knows a checklist by (a local id another phone's create beat is an alias)."""
        row = self.db.execute("SELECT checklist_id FROM alias WHERE id = ?", (checklist_id,)).fetchone()
        return row[0] if row else checklist_id

    def edit_answer(self, checklist_id: str, item_key: str, value: Any = _UNSET, note: str | None = None) -> int:
        checklist_id = self.canonical(checklist_id)
        local = self.answer(checklist_id, item_key)
        edit: dict[str, Any] = {
            "kind": "answer",
            "checklist_id": checklist_id,
            "item_key": item_key,
            "base_version": local["version"] if local else 0,
        }
        if value is not _UNSET:
            edit["value"] = value
        if note is not None:
            edit["note"] = note
        return self._enqueue(edit)

    def set_status(self, checklist_id: str, action: str, seen_version: int | None = None, comment: str = "") -> int:
        edit: dict[str, Any] = {"kind": "status", "checklist_id": checklist_id, "action": action, "comment": comment}
        if seen_version is not None:
            edit["seen_version"] = seen_version
        return self._enqueue(edit)

    def comment(self, checklist_id: str, text: str, item_key: str = "", comment_id: str | None = None) -> int:
        """A review comment on an item ("" = the whole checklist); its id is made here, once."""
        import uuid

        edit = {"kind": "comment", "comment_id": comment_id or str(uuid.uuid4()), "checklist_id": checklist_id}
        return self._enqueue({**edit, "item_key": item_key, "text": text})

    def resolve(self, conflict_id: str, value: Any) -> int:
        return self._enqueue({"kind": "resolve", "conflict_id": conflict_id, "value": value})

    # ------------------------------------------------------------------ push
    def pending(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def outbox(self) -> list[dict]:
        return [json.loads(r[0]) for r in self.db.execute("SELECT edit FROM outbox ORDER BY seq")]

    def _record(self, results: list[dict]) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for res in results:
                row = self.db.execute("SELECT edit FROM outbox WHERE seq = ?", (res["seq"],)).fetchone()
                if row is None:
                    continue  # already recorded (a duplicate answer)
                self.db.execute(
                    "INSERT OR REPLACE INTO outcome (seq, outcome, reason, result, edit) VALUES (?, ?, ?, ?, ?)",
                    (res["seq"], res["outcome"], res.get("reason", ""), json.dumps(res, ensure_ascii=False), row[0]),
                )
                self.db.execute("DELETE FROM outbox WHERE seq = ?", (res["seq"],))
                self._take_applied(json.loads(row[0]), res)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _take_applied(self, edit: dict, res: dict) -> None:
        """An answer edit `applied` is the item's state at `version`: nobody else had changed the item, so
        the replica may take the edit's fields and that version (the next edit's base_version). Not after
        `merged` or `conflict`: the server's item holds changes this device has not seen, and claiming
        their version would hide the next disagreement. Those arrive with the next pull."""
        if res.get("outcome") != "applied" or edit.get("kind") != "answer" or "version" not in res:
            return
        key = (edit["checklist_id"], edit["item_key"])
        local = self.answer(*key) or {"checklist_id": key[0], "item_key": key[1], "value": None, "note": ""}
        if local.get("version", 0) >= res["version"]:
            return  # a pull already brought this version or a later one
        if "value" in edit:  # null clears the answer
            local["value"] = edit["value"]
        if edit.get("note") is not None:  # a note left out is unchanged
            local["note"] = edit["note"]
        local["version"] = res["version"]
        self.db.execute(
            "INSERT OR REPLACE INTO answer (checklist_id, item_key, data) VALUES (?, ?, ?)",
            (key[0], key[1], json.dumps(local, ensure_ascii=False)),
        )

    def _request_body(self, edits: list[dict]) -> tuple[bytes, dict]:
        body = json.dumps(
            {"protocol": PROTOCOL_VERSION, "device_id": self.device_id, "client_ms": self.clock(), "edits": edits},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        headers = {"Content-Type": "application/json"}
        if self.use_gzip:
            body = gzip.compress(body, compresslevel=6)
            headers["Content-Encoding"] = "gzip"
        return body, headers

    async def push(self) -> list[dict]:
        """Send the whole outbox; returns the results received. Raises httpx errors on network faults
        (the outbox is kept: call again) and SyncFailed for refusals."""
        received: list[dict] = []
        start_after = 0
        while True:
            rows = self.db.execute(
                "SELECT edit FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?", (start_after, self.batch_size)
            ).fetchall()
            if not rows:
                return received
            edits = [json.loads(r[0]) for r in rows]
            content, headers = self._request_body(edits)
            self.bytes_sent += len(content)
            r = await self.http.post("/api/sync/push", content=content, headers=headers)
            body = _body(r)
            if r.status_code == 200 or (r.status_code == 409 and body.get("error") == "sequence_gap"):
                self._record(body["results"])
                received.extend(body["results"])
                self._set_meta("server_last_seq", body["last_seq"])
                if r.status_code == 409:
                    expected = body["expected_seq"]
                    first = self.db.execute("SELECT MIN(seq) FROM outbox").fetchone()[0]
                    if first is not None and first > expected:
                        raise SyncFailed(409, body)  # the edits the server waits for are gone here
                    start_after = expected - 1
                else:
                    start_after = 0
                continue
            raise SyncFailed(r.status_code, body)

    # ------------------------------------------------------------------ pull
    async def pull(self, limit: int = 500) -> int:
        """Fetch every page of changes; returns the number of pages."""
        pages = 0
        while True:
            params = {"device_id": self.device_id, "limit": limit}
            cursor = self._meta("cursor")
            if cursor:
                params["cursor"] = cursor
            r = await self.http.get("/api/sync/pull", params=params)
            if r.status_code != 200:
                raise SyncFailed(r.status_code, _body(r))
            page = r.json()
            self._apply_page(page)
            pages += 1
            if not page["more"]:
                return pages

    def _apply_page(self, page: dict) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            if page["reset"]:
                for t in ("checklist", "answer", "conflict"):
                    db.execute(f"DELETE FROM {t}")
                if "my_rejected" in page:
                    self._set_meta("my_rejected", json.dumps(page["my_rejected"], ensure_ascii=False))
            db.executemany(
                "INSERT OR REPLACE INTO checklist (id, data) VALUES (?, ?)",
                [(c["id"], json.dumps(c, ensure_ascii=False)) for c in page["checklists"]],
            )
            db.executemany(
                "INSERT OR REPLACE INTO answer (checklist_id, item_key, data) VALUES (?, ?, ?)",
                [(a["checklist_id"], a["item_key"], json.dumps(a, ensure_ascii=False)) for a in page["answers"]],
            )
            db.executemany(
                "INSERT OR REPLACE INTO conflict (id, checklist_id, data) VALUES (?, ?, ?)",
                [(c["id"], c["checklist_id"], json.dumps(c, ensure_ascii=False)) for c in page["conflicts"]],
            )
            for a in page.get("aliases", []):  # our id lost the race: the checklist lives on under the other
                db.execute(
                    "INSERT OR REPLACE INTO alias (id, checklist_id) VALUES (?, ?)", (a["id"], a["checklist_id"])
                )
                db.execute("DELETE FROM checklist WHERE id = ?", (a["id"],))
                for t in ("answer", "conflict"):
                    db.execute(
                        f"UPDATE OR IGNORE {t} SET checklist_id = ? WHERE checklist_id = ?",
                        (a["checklist_id"], a["id"]),
                    )
                    db.execute(f"DELETE FROM {t} WHERE checklist_id = ?", (a["id"],))
            for d in page["deleted"]:
                if d["entity"] == "checklist":
                    for t, col in (("checklist", "id"), ("answer", "checklist_id"), ("conflict", "checklist_id")):
                        db.execute(f"DELETE FROM {t} WHERE {col} = ?", (d["checklist_id"],))
                elif d["entity"] == "conflict":
                    db.execute("DELETE FROM conflict WHERE id = ?", (d["id"],))
                elif d["entity"] == "answer":
                    db.execute(
                        "DELETE FROM answer WHERE checklist_id = ? AND item_key = ?", (d["checklist_id"], d["id"])
                    )
            self._set_meta("cursor", page["cursor"])
            self._set_meta("server_last_seq", page["last_seq"])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def sync(self) -> None:
        await self.push()
        await self.pull()

    # ------------------------------------------------------------------ reading the replica
    def checklists(self) -> dict[str, dict]:
        return {r[0]: json.loads(r[1]) for r in self.db.execute("SELECT id, data FROM checklist")}

    def checklist(self, checklist_id: str) -> dict | None:
        row = self.db.execute("SELECT data FROM checklist WHERE id = ?", (checklist_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def answers(self) -> dict[tuple[str, str], dict]:
        return {
            (r[0], r[1]): json.loads(r[2]) for r in self.db.execute("SELECT checklist_id, item_key, data FROM answer")
        }

    def answer(self, checklist_id: str, item_key: str) -> dict | None:
        row = self.db.execute(
            "SELECT data FROM answer WHERE checklist_id = ? AND item_key = ?", (checklist_id, item_key)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def conflicts(self, open_only: bool = False) -> dict[str, dict]:
        out = {r[0]: json.loads(r[1]) for r in self.db.execute("SELECT id, data FROM conflict")}
        return {k: v for k, v in out.items() if not open_only or v["status"] == "open"}

    def outcomes(self) -> dict[int, dict]:
        return {r[0]: json.loads(r[1]) for r in self.db.execute("SELECT seq, result FROM outcome")}

    def replica(self) -> dict:
        """Everything pulled, in a comparable form (see sync.state.server_replica)."""
        return {
            "checklists": self.checklists(),
            "answers": {f"{k[0]}/{k[1]}": v for k, v in self.answers().items()},
            "conflicts": self.conflicts(),
        }


def _body(r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return {"error": "http_error", "message": r.text[:200]}
