"""The phone's local database upgrades in steps, and nothing waiting is lost or sent twice.

A phone that used the first shipped app has IndexedDB at version 1. The test makes that phone from the
page with the raw IndexedDB API and the version-1 schema, written here as it shipped (not taken from
pwa/js/db.js, whose step 1 must keep making exactly this): logged in on the meta database, a synced copy
of the checklists, and unsent edits in the outbox as the version-1 app wrote them. Then the current app
loads: it upgrades the database to the current version, sends every edit exactly once (checked on the
server's `edit` rows and answers) and ends with an empty outbox.

A second test pins what a tab does when another tab needs a newer schema: it closes its connection so
the upgrade is not blocked, and reloads, or asks the user to when an edit is being typed.
"""

from __future__ import annotations

import pytest

from tests.browser_fixtures import (  # noqa: F401 - fixtures
    PASSWORD,
    axe_check,
    browser,
    live_server,
    login,
    new_context,
    playwright_instance,
    poll,
    shot,
    sync_now,
    wait_synced,
)

pytestmark = pytest.mark.browser

# A page of the origin that runs no app code, and that the service worker does not answer with the app
# shell (it does for every navigation under /app/).
NO_APP_PAGE = "/static/site.css"

# The first shipped app's phone, made with the raw IndexedDB API (every write in one synchronous burst
# per transaction, as IndexedDB requires).
MAKE_V1_PHONE = """async ({ username, password, edits }) => {
  const json = async (method, path, body) => {
    const r = await fetch(path, { method, credentials: "same-origin", body: body && JSON.stringify(body),
      headers: { Accept: "application/json", "Content-Type": "application/json" } });
    if (!r.ok) throw new Error(method + " " + path + " " + r.status + " " + (await r.text()));
    return r.json();
  };
  const open = (name, upgrade) => new Promise((resolve, reject) => {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => upgrade(r.result);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const done = (tx) => new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error);
  });

  // What the version-1 app did online: log in, register the device, pull, fetch templates and deadlines.
  const session = await json("POST", "/api/session", { username, password });
  const device = await json("POST", "/api/devices", { name: "Trình duyệt – " + username });
  const pages = [];
  for (let cursor = null; ;) {
    const q = new URLSearchParams({ device_id: device.device_id, limit: "500" });
    if (cursor) q.set("cursor", cursor);
    const page = await json("GET", "/api/sync/pull?" + q);
    pages.push(page);
    cursor = page.cursor;
    if (!page.more) break;
  }
  const checklists = pages.flatMap((p) => p.checklists || []);
  const answers = pages.flatMap((p) => p.answers || []);
  const conflicts = pages.flatMap((p) => p.conflicts || []);
  const templates = await Promise.all([...new Set(checklists.map((c) => c.template_id))]
    .map((id) => json("GET", "/api/templates/" + id)));
  const deadlines = (await json("GET", "/api/deadlines")).deadlines;

  const meta = await open("eiso-meta", (db) => db.createObjectStore("kv"));
  let tx = meta.transaction("kv", "readwrite");
  tx.objectStore("kv").put(session.user, "user");
  await done(tx);
  meta.close();

  const db = await open("eiso-u-" + username, (db) => {  // the version-1 schema, as shipped
    db.createObjectStore("kv");
    db.createObjectStore("checklists", { keyPath: "id" });
    const answers = db.createObjectStore("answers", { keyPath: ["checklist_id", "item_key"] });
    answers.createIndex("checklist", "checklist_id");
    const outbox = db.createObjectStore("outbox", { keyPath: "seq" });
    outbox.createIndex("item", ["checklist_id", "item_key"]);
    const rejected = db.createObjectStore("rejected", { keyPath: "id" });
    rejected.createIndex("checklist", "checklist_id");
    const conflicts = db.createObjectStore("conflicts", { keyPath: "id" });
    conflicts.createIndex("checklist", "checklist_id");
    db.createObjectStore("templates", { keyPath: "id" });
    db.createObjectStore("evidence", { keyPath: "sha256" });
  });
  const now = Date.now();
  tx = db.transaction(["kv", "checklists", "answers", "conflicts", "templates", "outbox"], "readwrite");
  const kv = tx.objectStore("kv");
  kv.put(session.user, "user");
  kv.put(false, "auth_needed");
  kv.put(false, "persisted");
  kv.put(device.device_id, "device_id");
  kv.put(pages[pages.length - 1].cursor, "cursor");
  kv.put(now - 3600000, "last_sync_ms");
  kv.put(0, "server_offset_ms");
  kv.put(deadlines, "deadlines");
  for (const t of templates) tx.objectStore("templates").put(t);
  for (const c of conflicts) tx.objectStore("conflicts").put(c);
  const rollout = checklists.find((c) => c.template_code === "rollout");
  const local = new Map(answers.map((a) => [a.checklist_id + "/" + a.item_key, { ...a }]));
  // Offline edits as version 1's recordEdit wrote them: the local answer, the checklist's local time and
  // the outbox entry {kind, checklist_id, item_key, value | note, seq, device_ms, base_version}.
  let seq = (device.last_seq || 0) + 1;
  const seqs = [];
  for (const [i, edit] of edits.entries()) {
    const device_ms = now - 60000 + i * 1000;
    const key = rollout.id + "/" + edit.item_key;
    const current = local.get(key) || { checklist_id: rollout.id, item_key: edit.item_key, value: null, note: "",
      version: 0, review_comment: "" };
    const entry = { kind: "answer", checklist_id: rollout.id, ...edit, seq, device_ms,
      base_version: current.version || 0 };
    if ("value" in edit) current.value = edit.value;
    if ("note" in edit) current.note = edit.note;
    current.local_ms = device_ms;
    local.set(key, current);
    rollout.local_ms = device_ms;
    tx.objectStore("outbox").add(entry);
    seqs.push(seq++);
  }
  kv.put(seq, "next_seq");
  for (const a of local.values()) tx.objectStore("answers").put(a);
  for (const c of checklists) tx.objectStore("checklists").put(c);
  await done(tx);
  db.close();
  return { device_id: device.device_id, checklist_id: rollout.id, seqs };
}"""

RAW_SCHEMA = """async (name) => new Promise((resolve, reject) => {
  const r = indexedDB.open(name);
  r.onsuccess = () => {
    const db = r.result;
    const tx = db.transaction("outbox");
    const out = { version: db.version, stores: [...db.objectStoreNames].sort(),
                  outbox_indexes: [...tx.objectStore("outbox").indexNames].sort() };
    db.close();
    resolve(out);
  };
  r.onerror = () => reject(r.error);
})"""

# Edits on items no other browser test touches; s07_staff_count twice (both go, the last one wins).
EDITS = [
    {"item_key": "s07_staff_briefed", "value": "yes"},
    {"item_key": "s07_staff_count", "value": 12},
    {"item_key": "s09_auditor_count", "note": "Hai người đã có chứng chỉ đánh giá viên nội bộ."},
    {"item_key": "s07_staff_count", "value": 14},
]


def test_a_version_1_phone_upgrades_and_sends_every_edit_once(new_context, live_server):
    ctx = new_context()
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # The version-1 phone is made before the current app ever loads.
    page.goto(NO_APP_PAGE)
    made = page.evaluate(MAKE_V1_PHONE, {"username": "xa.iatoi", "password": PASSWORD, "edits": EDITS})
    before = page.evaluate(RAW_SCHEMA, "eiso-u-xa.iatoi")
    assert before["version"] == 1 and before["outbox_indexes"] == ["item"]
    assert made["seqs"] == [1, 2, 3, 4]
    assert live_server.sql("SELECT COUNT(*) FROM edit WHERE device_id = ?", (made["device_id"],))[0][0] == 0

    # The current app loads on that phone: logged in, offline data there, the database upgraded.
    page.goto("/app/")
    page.wait_for_selector("#h-unit")
    wait_synced(page, timeout=30000)
    after = page.evaluate(RAW_SCHEMA, "eiso-u-xa.iatoi")
    assert after["version"] == 4
    assert after["stores"] == sorted([*before["stores"], "comments", "inbox"])  # steps 3 and 4 add them
    assert after["outbox_indexes"] == ["checklist", "item"]
    assert page.evaluate("window.__eiso.store.outboxCount()") == 0

    def sent() -> list[tuple]:
        return live_server.sql(
            "SELECT seq, kind, item_key, outcome FROM edit WHERE device_id = ? ORDER BY seq", (made["device_id"],)
        )

    rows = sent()
    assert [r[0] for r in rows] == [1, 2, 3, 4], rows
    assert [r[2] for r in rows] == [e["item_key"] for e in EDITS]
    assert all(r[1] == "answer" and r[3] in ("applied", "merged") for r in rows), rows
    answers = {
        a["item_key"]: a
        for a in live_server.client("xa.iatoi").get(f"/api/checklists/{made['checklist_id']}").json()["answers"]
    }
    assert answers["s07_staff_briefed"]["value"] == "yes"
    assert answers["s07_staff_count"]["value"] == 14
    assert answers["s09_auditor_count"]["note"] == EDITS[2]["note"]

    # Another start and sync: nothing is sent again.
    page.reload()
    page.wait_for_selector("#h-unit")
    sync_now(page)
    wait_synced(page, timeout=30000)
    assert sent() == rows
    # The deadlines version 1 cached are shown (the app computes none of its own).
    assert page.locator(".deadlines li").count() >= 1
    assert not errors, errors


def open_newer(page, name: str) -> str:
    """From another tab: open `name` at a version above the app's; resolves once nothing blocks it."""
    return page.evaluate(
        """(name) => new Promise((resolve, reject) => {
        const probe = indexedDB.open(name);
        probe.onsuccess = () => {
          const v = probe.result.version;
          probe.result.close();
          const r = indexedDB.open(name, v + 1);
          r.onblocked = () => {};  // waits until the app's tab closes its connection
          r.onsuccess = () => { r.result.close(); resolve("opened"); };
          r.onerror = () => reject(r.error);
        };
    })""",
        name,
    )


def delete_database(page, name: str) -> None:
    page.evaluate(
        """(name) => new Promise((resolve, reject) => {
        const r = indexedDB.deleteDatabase(name);
        r.onsuccess = () => resolve(true);
        r.onerror = () => reject(r.error);
        r.onblocked = () => reject(new Error("delete blocked"));
    })""",
        name,
    )


def test_a_newer_schema_in_another_tab_is_not_blocked(new_context, live_server):
    ctx = new_context()
    app = ctx.new_page()
    login(app, "xa.iatoi")
    wait_synced(app)
    other = ctx.new_page()
    other.goto(NO_APP_PAGE)

    # Nothing being written or typed: the tab closes its connection and reloads at once.
    with app.expect_navigation():
        assert open_newer(other, "eiso-u-xa.iatoi") == "opened"
    # (The reloaded old tab cannot open the newer database; a fresh one lets the test go on.)
    delete_database(other, "eiso-u-xa.iatoi")
    app.reload()
    app.wait_for_selector("#h-unit")
    wait_synced(app)

    # Typing in a field: the tab closes its connection, and asks before reloading.
    cid = app.evaluate(
        "async () => (await window.__eiso.store.checklists()).find(x => x.template_code === 'rollout').id"
    )
    app.evaluate("(id) => { location.hash = '#/c/' + id; }", cid)
    app.wait_for_selector("#submit-btn")
    wait_synced(app)  # a sync ending after the focus could draw the screen again and take the focus away
    app.focus("#i-s03_plan_number-input")
    poll(app, "() => document.activeElement && document.activeElement.id === 'i-s03_plan_number-input'")
    assert open_newer(other, "eiso-u-xa.iatoi") == "opened"
    app.wait_for_selector("#reload-banner button")
    app.evaluate("window.scrollTo(0, 0)")
    shot(app, "14-newer-version-in-another-tab")
    axe_check(app, "reload-banner")
    app.close()
    delete_database(other, "eiso-u-xa.iatoi")
