// The review, without the screens: what a reviewer's queue holds (from the synced checklists, so it works
// offline), the status a person reads, what changed since the reviewer's last decision, and the server's
// review data (unit names, deadlines, changes, timeline) cached on the phone for when there is no network.
import { api } from "./sync.js";
import { message, reopenedLabel, statusLabel } from "./catalogue.js";

const REFRESH_MS = 10 * 60 * 1000;

/** "reopened" for a draft a unit above opened again, else the workflow's status. */
export function statusCode(c) {
  return c.status === "draft" && c.reopened ? "reopened" : c.status;
}

/** The status in the catalogue's words; a decision still in the outbox says so. */
export function statusText(c) {
  if (c.pending_action) return message("status_pending", { action: actionText(c.pending_action) });
  return statusCode(c) === "reopened" ? reopenedLabel() : statusLabel(c.status);
}

export function actionText(action) {
  return { submit: message("action_submit"), return: message("action_return"),
    approve: message("action_approve"), reopen: message("action_reopen") }[action] || action;
}

const fetched = new Map();
/** `load()` stored under `key`, at most every 10 minutes and only online; never awaited by a screen that
 * has a cached copy. Resolves to the fresh value or null. */
export function refreshCached(store, key, load, { stamp = "" } = {}) {
  const id = key + "@" + stamp; // a new stamp (a checklist's new version) fetches again at once
  const last = fetched.get(id) || 0;
  if (!navigator.onLine || Date.now() - last < REFRESH_MS) return Promise.resolve(null);
  fetched.set(id, Date.now());
  return load().then(async (v) => {
    const before = JSON.stringify((await store.kvGet(key)) ?? null);
    await store.kvSet(key, v);
    return before === JSON.stringify(v) ? null : v; // null: nothing new to show
  }).catch(() => { fetched.delete(id); return null; });
}

/** {unit_id: {name, parent_name}} of the units in the user's scope (GET /api/units), cached. */
export async function unitNames(store) {
  const load = async () => {
    const out = {};
    for (const u of (await api("GET", "/api/units")).units || []) out[u.id] = { name: u.name, parent_name: u.parent_name || "" };
    return out;
  };
  const fresh = refreshCached(store, "units", load);
  return (await store.kvGet("units")) || (await fresh) || {};
}

export function unitText(units, id) {
  const u = units[id];
  if (!u) return "#" + id;
  return u.parent_name ? `${u.name} (${u.parent_name})` : u.name;
}

/** {checklist_id: "yyyy-mm-dd"} from the server's queue (GET /api/review/queue, every status), cached;
 * {} until the phone has fetched it once. */
export async function queueDeadlines(store) {
  const load = async () => {
    const out = {};
    for (const q of (await api("GET", "/api/review/queue?status=all")).checklists || []) if (q.due) out[q.id] = q.due;
    return out;
  };
  const fresh = refreshCached(store, "queue_deadlines", load);
  return (await store.kvGet("queue_deadlines")) || (await fresh) || {};
}

/**
 * The reviewer's queue: checklists of the units below (not the reviewer's own unit), oldest deadline
 * first (a checklist without a known deadline goes by its period, older first), then the oldest
 * submission. Each entry: {c, t, unit, deadline, status, conflicts}.
 */
export async function reviewQueue(store, user) {
  const own = user.unit ? user.unit.id : null;
  const [units, deadlines, conflicts, templates, checklists] = await Promise.all([
    unitNames(store), queueDeadlines(store), store.conflicts(), store.templates(), store.checklists(),
  ]);
  const byId = new Map(templates.map((t) => [t.id, t]));
  const open = new Map();
  for (const x of conflicts) open.set(x.checklist_id, (open.get(x.checklist_id) || 0) + 1);
  const out = [];
  for (const c of checklists) {
    if (c.unit_id === own) continue;
    out.push({
      c, t: byId.get(c.template_id), unit: unitText(units, c.unit_id),
      deadline: deadlines[c.id] || null, status: statusCode(c), conflicts: open.get(c.id) || 0,
    });
  }
  const key = (e) => [e.deadline || "9999-99-99", periodKey(e.c.period), e.c.status_ms || 0];
  out.sort((a, b) => compare(key(a), key(b)));
  return out;
}

function periodKey(p) { return p === "once" ? "0000" : p; } // "2026" sorts before "2026-01"
function compare(a, b) {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/** Counts per status over `entries`, and what waits (submitted) per unit, most first. */
export function queueCounts(entries) {
  const byStatus = { submitted: 0, returned: 0, approved: 0, draft: 0, reopened: 0 };
  const waiting = new Map();
  for (const e of entries) {
    byStatus[e.status] = (byStatus[e.status] || 0) + 1;
    if (e.status === "submitted") waiting.set(e.unit, (waiting.get(e.unit) || 0) + 1);
  }
  return { byStatus, waiting: [...waiting.entries()].sort((a, b) => b[1] - a[1]) };
}

/** What the reviewer saw when deciding here: the answers at that version (for "what changed since"). */
export async function rememberDecision(store, c) {
  const answers = {};
  for (const [key, a] of await store.answers(c.id)) answers[key] = { value: a.value ?? null, note: a.note || "" };
  await store.kvSet("decided:" + c.id, { version: c.version || 0, answers, at_ms: Date.now() });
}

/**
 * What changed since the reviewer's last decision: the server's list when the phone has it for this
 * version (GET /api/checklists/{id}/changes, cached), else the answers compared with what this phone saw
 * when it decided. Null when there is nothing to compare with. Entries: {item_key, old_value, new_value,
 * old_note, new_note, by, at_ms}.
 */
export async function changesSince(store, c) {
  const server = await store.kvGet("changes:" + c.id);
  // since 0: the server knows no earlier decision or submission, so every answer would read as new.
  if (server && server.version === c.version && server.since) return server;
  const decided = await store.kvGet("decided:" + c.id);
  if (!decided) return null;
  const items = [];
  for (const [key, a] of await store.answers(c.id)) {
    const before = decided.answers[key] || { value: null, note: "" };
    const valueChanged = JSON.stringify(before.value ?? null) !== JSON.stringify(a.value ?? null);
    const noteChanged = (before.note || "") !== (a.note || "");
    if (!valueChanged && !noteChanged) continue;
    items.push({
      item_key: key, old_value: before.value, new_value: a.value, old_note: before.note, new_note: a.note || "",
      by: valueChanged ? a.value_by : a.note_by, at_ms: valueChanged ? a.value_ms : a.note_ms,
    });
  }
  return { since: decided.version, version: c.version, items };
}

/** Fetch the server's changes and timeline of a checklist in the background; `done()` after new data. */
export function refreshReviewData(store, c, commentCount, done) {
  const stamp = `${c.version}:${c.status}:${commentCount}`;
  const changes = refreshCached(store, "changes:" + c.id, async () => {
    const res = await api("GET", `/api/checklists/${c.id}/changes`);
    return { since: res.since ?? null, version: c.version, items: (res.items || res.changes || []).map(changeEntry) };
  }, { stamp });
  const timeline = refreshCached(store, "timeline:" + c.id, async () => {
    const res = await api("GET", `/api/checklists/${c.id}/timeline`);
    return { version: c.version, events: res.events || res.timeline || [] };
  }, { stamp });
  Promise.all([changes, timeline]).then(([a, b]) => { if (a || b) done(); });
}

function changeEntry(x) {
  const old = x.old || {};
  const now = x.new || {};
  return {
    item_key: x.item_key,
    old_value: x.old_value ?? old.value ?? null, new_value: x.new_value ?? now.value ?? null,
    old_note: x.old_note ?? old.note ?? "", new_note: x.new_note ?? now.note ?? "",
    by: x.by_name || x.by || x.who || x.value_by || "", at_ms: x.at_ms ?? x.ms ?? x.when_ms ?? x.value_ms ?? null,
  };
}

/** A client-made id for a comment (lowercase UUID, as the protocol asks). */
export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
