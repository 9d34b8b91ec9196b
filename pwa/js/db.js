// Local storage in IndexedDB. One database per user (a shared phone keeps each user's edits apart) and a
// small "meta" database that remembers who is logged in on this phone, so the app opens offline.
//
// Every edit is written together with its outbox entry in ONE transaction: either both are on the phone
// or neither is. Sequence numbers are taken from the same transaction, so they have no gaps.
//
// Schemas change in steps: step N turns a database at version N-1 into version N, and opening runs
// every step after the version the phone has, in order (a phone that skipped versions goes through all
// of them). Shipped steps never change; a new schema is a new step at the end. When another tab opens a
// newer version, this tab's connection closes (`onVersionChange`), since it would block the upgrade.
import { openDB, deleteDB } from "./vendor/idb.js";

const META = "eiso-meta";

const META_STEPS = [
  // 1: who is logged in, and a pending logout.
  (db) => { db.createObjectStore("kv"); },
];

const USER_STEPS = [
  // 1: the first shipped schema.
  (db) => {
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
  },
  // 2: the outbox by checklist (what waits for one checklist: its marks, a pending submit, whether a
  // checklist that left the scope may be dropped). Entries already waiting are indexed as they are.
  (db, tx) => { tx.objectStore("outbox").createIndex("checklist", "checklist_id"); },
  // 3: comments of reviewers and officials (on an item or the whole checklist), by checklist: the ones the
  // pull brought and the ones made here that wait in the outbox. The pull cursor is forgotten: pages an
  // older app applied dropped their comments, so the next pull is a snapshot that brings them (the outbox
  // is untouched, and local values of unsent edits win over the snapshot as always).
  (db, tx) => {
    db.createObjectStore("comments", { keyPath: "id" }).createIndex("checklist", "checklist_id");
    tx.objectStore("kv").delete("cursor");
  },
  // 4: the reminders inbox, kept for offline reading (pwa/js/ui/inbox.js). Touches no other store: the
  // outbox and everything waiting to be sent stay as they are.
  (db) => { db.createObjectStore("inbox", { keyPath: "id" }); },
];

/** idb's `upgrade` callback that runs every step after `oldVersion`. */
function stepsAfter(steps) {
  return (db, oldVersion, newVersion, tx) => {
    for (let v = oldVersion; v < steps.length; v++) steps[v](db, tx);
  };
}

// What the app does when another tab needs a newer schema (`blocking`: this connection is in the way,
// and has already been closed), or when an older tab keeps this one from opening (`blocked`).
const versionHandlers = { blocking: () => {}, blocked: () => {} };
export function onVersionChange({ blocking, blocked }) {
  if (blocking) versionHandlers.blocking = blocking;
  if (blocked) versionHandlers.blocked = blocked;
}

function open(name, steps) {
  return openDB(name, steps.length, {
    upgrade: stepsAfter(steps),
    blocked: () => versionHandlers.blocked(name),
    blocking: (oldVersion, newVersion, event) => { event.target.close(); versionHandlers.blocking(name); },
  });
}

let metaDb;
async function meta() {
  if (!metaDb) metaDb = await open(META, META_STEPS);
  return metaDb;
}
export async function metaGet(key) { return (await meta()).get("kv", key); }
export async function metaSet(key, value) {
  const db = await meta();
  if (value === undefined || value === null) return db.delete("kv", key);
  return db.put("kv", value, key);
}

function userDbName(username) { return "eiso-u-" + username; }

export async function openUserDb(username) {
  return new UserStore(await open(userDbName(username), USER_STEPS), username);
}

export async function deleteUserDb(username) { await deleteDB(userDbName(username)); }

export class UserStore {
  constructor(db, username) {
    this.db = db;
    this.username = username;
    this.writing = 0; // edits being written now (a reload waits for them)
  }
  close() { this.db.close(); }

  kvGet(key) { return this.db.get("kv", key); }
  kvSet(key, value) { return this.db.put("kv", value, key); }

  // ---- reading ---------------------------------------------------------------------------------
  checklists() { return this.db.getAll("checklists"); }
  checklist(id) { return this.db.get("checklists", id); }
  template(id) { return this.db.get("templates", id); }
  templates() { return this.db.getAll("templates"); }
  putTemplate(t) { return this.db.put("templates", t); }
  async answers(checklistId) {
    const list = await this.db.getAllFromIndex("answers", "checklist", checklistId);
    const map = new Map();
    for (const a of list) map.set(a.item_key, a);
    return map;
  }
  async allAnswers() { return this.db.getAll("answers"); }
  async conflicts(checklistId) {
    const list = checklistId
      ? await this.db.getAllFromIndex("conflicts", "checklist", checklistId)
      : await this.db.getAll("conflicts");
    return list.filter((c) => c.status === "open");
  }
  outbox() { return this.db.getAll("outbox"); }
  outboxCount() { return this.db.count("outbox"); }
  async pendingItems(checklistId) {
    const set = new Set();
    for (const e of await this.db.getAllFromIndex("outbox", "checklist", checklistId)) {
      if (e.item_key) set.add(e.item_key);
    }
    return set;
  }
  rejected() { return this.db.getAll("rejected"); }
  /** Comments of a checklist (all checklists without an id), oldest first. */
  async comments(checklistId) {
    const list = checklistId
      ? await this.db.getAllFromIndex("comments", "checklist", checklistId)
      : await this.db.getAll("comments");
    return list.sort((a, b) => (a.created_ms || 0) - (b.created_ms || 0));
  }
  evidence(sha) { return this.db.get("evidence", sha); }
  async pendingUploads() { return (await this.db.getAll("evidence")).filter((e) => !e.done); }

  // ---- writing an edit: the edit, its local effect and its outbox entry in one transaction -------
  /**
   * edit: {kind: "answer", checklist_id, item_key, value?, note?}
   *     | {kind: "status", checklist_id, action, seen_version, comment}
   *     | {kind: "resolve", checklist_id, item_key, conflict_id, value}
   *     | {kind: "comment", checklist_id, comment_id, item_key, text, author_name?, author_role?, checklist_version?}
   * files: evidence records {sha256, name, size, mime, blob} stored in the same transaction.
   */
  async recordEdit(edit, files = []) {
    this.writing += 1;
    try {
      return await this.writeEdit(edit, files);
    } finally {
      this.writing -= 1;
    }
  }

  async writeEdit(edit, files) {
    const tx = this.db.transaction(["kv", "answers", "outbox", "conflicts", "checklists", "evidence", "comments"], "readwrite");
    const kv = tx.objectStore("kv");
    const seq = (await kv.get("next_seq")) || 1;
    await kv.put(seq + 1, "next_seq");
    const entry = { ...edit, seq, device_ms: Date.now() };
    if (edit.kind === "answer" || edit.kind === "resolve") {
      const answers = tx.objectStore("answers");
      const key = [edit.checklist_id, edit.item_key];
      const current = (await answers.get(key)) || {
        checklist_id: edit.checklist_id, item_key: edit.item_key, value: null, note: "", version: 0,
        review_comment: "",
      };
      entry.base_version = current.version || 0;
      if (edit.kind === "resolve" && edit.field === "note") current.note = edit.value;
      else if ("value" in edit) current.value = edit.value;
      if ("note" in edit) current.note = edit.note;
      current.local_ms = entry.device_ms;
      await answers.put(current);
      if (edit.kind === "resolve") {
        const conflicts = tx.objectStore("conflicts");
        const c = await conflicts.get(edit.conflict_id);
        if (c) { c.status = "resolving"; await conflicts.put(c); }
      }
      const checklists = tx.objectStore("checklists");
      const cl = await checklists.get(edit.checklist_id);
      if (cl) { cl.local_ms = entry.device_ms; await checklists.put(cl); }
    } else if (edit.kind === "create") {
      // The checklist is on the phone at once, under the id made here; the server keeps that id, or makes
      // it an alias of a checklist another phone created first (then pulls re-key it, `rekey`).
      const ms = entry.device_ms;
      await tx.objectStore("checklists").put({
        id: edit.checklist_id, unit_id: edit.unit_id, template_id: edit.template_id,
        template_code: edit.template_code || "", period: edit.period, status: "draft", version: 0,
        status_comment: "", status_by: "", status_ms: null, approved_version: null, updated_ms: ms, local_ms: ms,
      });
    } else if (edit.kind === "comment") {
      // Shown at once beside its item, marked as waiting; the pull's copy replaces it.
      await tx.objectStore("comments").put({
        id: edit.comment_id, checklist_id: edit.checklist_id, item_key: edit.item_key || "", text: edit.text,
        author: this.username, author_name: edit.author_name || this.username, author_role: edit.author_role || "",
        created_ms: entry.device_ms, checklist_version: edit.checklist_version ?? null, pending: true,
      });
    } else if (edit.kind === "status") {
      const checklists = tx.objectStore("checklists");
      const cl = await checklists.get(edit.checklist_id);
      if (cl) { cl.pending_action = edit.action; await checklists.put(cl); }
    }
    const evidence = tx.objectStore("evidence");
    for (const f of files) {
      if (!(await evidence.get(f.sha256))) {
        await evidence.put({ ...f, uploaded: 0, done: false, after_seq: seq, added_ms: Date.now() });
      }
    }
    await tx.objectStore("outbox").add(entry);
    await tx.done;
    return seq;
  }

  // ---- sync bookkeeping ----------------------------------------------------------------------------
  async outboxBatch(limit) {
    const out = [];
    let cursor = await this.db.transaction("outbox").store.openCursor();
    while (cursor && out.length < limit) {
      out.push(cursor.value);
      cursor = await cursor.continue();
    }
    return out;
  }

  /** Push results: acknowledged edits leave the outbox; rejected ones are kept with their reason. */
  async applyResults(deviceId, results) {
    const tx = this.db.transaction(["outbox", "rejected", "answers", "checklists", "conflicts", "kv", "comments"], "readwrite");
    const outbox = tx.objectStore("outbox");
    for (const r of results) {
      const entry = await outbox.get(r.seq);
      if (!entry) continue;
      await outbox.delete(r.seq);
      if (r.outcome === "rejected") {
        await tx.objectStore("rejected").put({
          id: deviceId + ":" + r.seq, seq: r.seq, reason: r.reason, message: r.message || "",
          kind: entry.kind, checklist_id: entry.checklist_id, item_key: entry.item_key || "",
          action: entry.action || "", version: r.version ?? null, edit: entry, at_ms: Date.now(),
        });
        await settleComment(tx, entry, r);
        if (entry.kind === "status") await clearPendingAction(tx, entry.checklist_id);
      } else if (entry.kind === "comment") {
        await settleComment(tx, entry, r);
      } else if (entry.kind === "create" && r.checklist_id && r.checklist_id !== entry.checklist_id) {
        await rekey(tx, entry.checklist_id, r.checklist_id); // another phone created it first
      } else if (entry.kind === "answer" && r.outcome === "applied" && r.version) {
        // Only an applied edit's version is the answer's: a merged or conflicting one carries the
        // checklist's, and taking it would make the next edit's base_version a lie.
        const answers = tx.objectStore("answers");
        const a = await answers.get([entry.checklist_id, entry.item_key]);
        if (a && (a.version || 0) < r.version) { a.version = r.version; await answers.put(a); }
      }
    }
    await tx.done;
  }

  /** The checklist a local id now stands for (an id whose create lost the race is an alias). */
  async canonicalId(id) { return (await this.kvGet("alias:" + id)) || null; }

  /** After re-registering (unknown device) or a sequence gap: number what waits from `first`. */
  async renumberOutbox(first) {
    const tx = this.db.transaction(["outbox", "kv", "evidence"], "readwrite");
    const outbox = tx.objectStore("outbox");
    const entries = await outbox.getAll();
    await outbox.clear();
    let seq = first;
    for (const e of entries) { e.seq = seq++; await outbox.add(e); }
    await tx.objectStore("kv").put(seq, "next_seq");
    await tx.done;
  }

  /** One page of a pull, applied in one transaction. Fields with unsent local edits keep the local value. */
  async applyPull(page, deviceId) {
    const tx = this.db.transaction(["checklists", "answers", "conflicts", "outbox", "rejected", "kv", "comments"], "readwrite");
    const checklists = tx.objectStore("checklists");
    const answers = tx.objectStore("answers");
    const conflicts = tx.objectStore("conflicts");
    const outbox = tx.objectStore("outbox");
    for (const c of page.checklists || []) {
      const local = await checklists.get(c.id);
      const merged = { ...c };
      if (local && local.pending_action && (await hasPendingStatus(outbox, c.id))) merged.pending_action = local.pending_action;
      if (local && local.local_ms) merged.local_ms = local.local_ms;
      await checklists.put(merged);
    }
    for (const a of page.answers || []) {
      const key = [a.checklist_id, a.item_key];
      const local = await answers.get(key);
      const pending = await outbox.index("item").getAll(key);
      const next = { ...a };
      if (local && pending.some((e) => "value" in e)) next.value = local.value;
      if (local && pending.some((e) => "note" in e)) next.note = local.note;
      await answers.put(next);
    }
    for (const c of page.conflicts || []) await conflicts.put(c);
    for (const m of page.comments || []) await tx.objectStore("comments").put(m);
    for (const a of page.aliases || []) await rekey(tx, a.id, a.checklist_id);
    for (const d of page.deleted || []) {
      if (d.entity === "checklist") await checklists.delete(d.id);
      if (d.entity === "conflict") await conflicts.delete(d.id);
    }
    const rejected = tx.objectStore("rejected");
    for (const r of page.my_rejected || []) {
      const id = (r.device_id || deviceId) + ":" + r.seq;
      if (r.device_id && r.device_id !== deviceId) continue; // another phone of mine shows its own
      if ((await tx.objectStore("kv").get("dismissed:" + id))) continue;
      if (!(await rejected.get(id))) await rejected.put({ id, ...r, edit: r.payload, at_ms: Date.now() });
    }
    await tx.objectStore("kv").put(page.cursor, "cursor");
    await tx.done;
  }

  /** Names of devices the pull mentioned (`devices`: id -> name), to tell two phones of one person apart. */
  async rememberDevices(devices) {
    const known = (await this.kvGet("devices")) || {};
    await this.kvSet("devices", { ...known, ...devices });
  }
  async deviceNames() { return (await this.kvGet("devices")) || {}; }

  async dismissRejected(id) {
    const tx = this.db.transaction(["rejected", "kv"], "readwrite");
    await tx.objectStore("rejected").delete(id);
    await tx.objectStore("kv").put(true, "dismissed:" + id); // a later full pull does not bring it back
    await tx.done;
  }

  /** After a full snapshot: drop checklists that left the user's scope (unless edits of them wait). */
  async dropChecklistsExcept(keep) {
    const tx = this.db.transaction(["checklists", "answers", "conflicts", "outbox", "comments"], "readwrite");
    const waiting = tx.objectStore("outbox").index("checklist");
    for (const c of await tx.objectStore("checklists").getAll()) {
      if (keep.has(c.id) || (await waiting.count(c.id))) continue;
      await tx.objectStore("checklists").delete(c.id);
      for (const a of await tx.objectStore("answers").index("checklist").getAll(c.id)) {
        await tx.objectStore("answers").delete([a.checklist_id, a.item_key]);
      }
      for (const m of await tx.objectStore("comments").index("checklist").getAll(c.id)) {
        await tx.objectStore("comments").delete(m.id);
      }
    }
    await tx.done;
  }

  async markUpload(sha, uploaded, done) {
    const tx = this.db.transaction("evidence", "readwrite");
    const e = await tx.store.get(sha);
    if (e) { e.uploaded = uploaded; e.done = done; await tx.store.put(e); }
    await tx.done;
  }
}

/** A comment's push result: applied ones stop waiting; a refused one stays on show with its reason. */
async function settleComment(tx, entry, r) {
  if (entry.kind !== "comment") return;
  const comments = tx.objectStore("comments");
  const m = await comments.get(entry.comment_id);
  if (!m) return;
  m.pending = false;
  if (r.outcome === "rejected") { m.rejected_reason = r.reason; m.rejected_message = r.message || ""; }
  await comments.put(m);
}

/** A refused decision no longer waits: the checklist shows its real status again (and the refusal). */
async function clearPendingAction(tx, checklistId) {
  const checklists = tx.objectStore("checklists");
  const cl = await checklists.get(checklistId);
  if (cl && cl.pending_action && !(await hasPendingStatus(tx.objectStore("outbox"), checklistId))) {
    delete cl.pending_action;
    await checklists.put(cl);
  }
}

async function hasPendingStatus(outbox, checklistId) {
  return (await outbox.index("checklist").getAll(checklistId)).some((e) => e.kind === "status");
}

/**
 * Two phones created the same checklist: the one made here under `aliasId` is `canonicalId` on the server.
 * Move what the phone holds under the alias to the canonical checklist (inside the caller's transaction,
 * which must cover checklists, answers, conflicts, outbox and kv): edits still waiting are re-addressed
 * (the server would also accept the alias), local answers with unsent edits keep their local value.
 */
async function rekey(tx, aliasId, canonicalId) {
  if (!aliasId || aliasId === canonicalId) return;
  await tx.objectStore("kv").put(canonicalId, "alias:" + aliasId);
  const checklists = tx.objectStore("checklists");
  const local = await checklists.get(aliasId);
  if (local) {
    await checklists.delete(aliasId);
    if (!(await checklists.get(canonicalId))) await checklists.put({ ...local, id: canonicalId });
  }
  const outbox = tx.objectStore("outbox");
  const waiting = new Set();
  for (const e of await outbox.index("checklist").getAll(aliasId)) {
    if (e.kind === "create") continue; // the create itself stays as it was made
    e.checklist_id = canonicalId;
    await outbox.put(e);
    if (e.item_key) waiting.add(e.item_key);
  }
  const answers = tx.objectStore("answers");
  for (const a of await answers.index("checklist").getAll(aliasId)) {
    await answers.delete([aliasId, a.item_key]);
    const there = await answers.get([canonicalId, a.item_key]);
    if (!there || waiting.has(a.item_key)) {
      await answers.put({ ...(there || {}), ...a, checklist_id: canonicalId, version: there ? there.version : 0 });
    }
  }
  const conflicts = tx.objectStore("conflicts");
  for (const c of await conflicts.index("checklist").getAll(aliasId)) await conflicts.delete(c.id);
}
