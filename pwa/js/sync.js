// The sync protocol client (docs/sync-protocol.md): register a device, push the outbox in batches
// (gzip when the browser can), pull with a cursor, then upload evidence files in resumable chunks.
// One tab syncs at a time (Web Locks); the others hear about the result on a BroadcastChannel.
import { sha256Hex } from "./evidence.js";
import { errorText, message, protocolVersion } from "./catalogue.js";
import { fmtDateTime } from "./ui/common.js";
import { refreshDeadlines } from "./deadlines.js";
import { busyUntil, clearBusy, noteBusy, parseRetryAfter, scopeOf, withJitter } from "./retry.js";

const BATCH = 200;
const CHUNK = 64 * 1024;
const TIMER_MS = 60 * 1000;
const MAX_BACKOFF_MS = 5 * 60 * 1000;
// What the person asked for goes at once, even while the server asked to wait; everything else waits.
const MANUAL = new Set(["manual", "logout-stay"]);

export class AuthNeeded extends Error {}

export class Syncer extends EventTarget {
  constructor(store) {
    super();
    this.store = store;
    this.failures = 0;
    this.retryTimer = null;
    this.timer = null;
    this.running = false;
    this.gzipOk = typeof CompressionStream === "function";
    this.channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("eiso-sync-" + store.username) : null;
    if (this.channel) this.channel.onmessage = () => this.emit("changed");
    this.uploadProgress = new Map(); // sha256 -> fraction, for the UI
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  start() {
    this.onOnline = () => this.syncNow("online");
    this.onVisible = () => { if (document.visibilityState === "visible") this.syncNow("visible"); };
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", () => this.emit("status"));
    document.addEventListener("visibilitychange", this.onVisible);
    this.timer = setInterval(() => { if (document.visibilityState === "visible") this.syncNow("timer"); }, TIMER_MS);
    this.syncNow("start");
  }

  stop() {
    window.removeEventListener("online", this.onOnline);
    document.removeEventListener("visibilitychange", this.onVisible);
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.editTimer);
    if (this.channel) this.channel.close();
  }

  /** After an edit: sync soon (edits typed quickly go together). */
  afterEdit() {
    clearTimeout(this.editTimer);
    this.editTimer = setTimeout(() => this.syncNow("edit"), 1200);
  }

  async syncNow(reason) {
    if (!navigator.onLine) { this.emit("status"); return; }
    const manual = MANUAL.has(reason);
    if (this.running) { if (manual || !this.again) this.again = manual ? "manual" : "again"; return; }
    // The server said when to come back (Retry-After): no timer, trigger or edit sends before then.
    const until = manual ? 0 : busyUntil("server");
    if (until) { this.retryLater(until - Date.now()); this.emit("status"); return; }
    this.running = true;
    this.manual = manual;
    this.emit("status");
    try {
      const run = () => this._sync(reason);
      if (navigator.locks) {
        await navigator.locks.request("eiso-sync-" + this.store.username, { ifAvailable: true }, async (lock) => {
          if (lock) await run(); // null: another tab is syncing right now
        });
      } else {
        await run();
      }
      this.failures = 0;
      this.retryAt = 0;
      await this.store.kvSet("last_error", null);
    } catch (err) {
      if (err instanceof AuthNeeded) {
        await this.store.kvSet("auth_needed", true);
        this.emit("auth");
      } else {
        this.failures += 1;
        let wait = Math.min(MAX_BACKOFF_MS, 5000 * 2 ** (this.failures - 1)) * (0.75 + Math.random() * 0.5);
        // Retry-After (jitter already added) is the server's word: then, not on our own schedule.
        if (err.retryAt) wait = err.retryAt - Date.now();
        else wait = Math.max(wait, busyUntil("server") - Date.now());
        this.retryLater(wait);
        const failure = await describeFailure(err);
        await this.store.kvSet("last_error", { ...failure, at_ms: Date.now(), retry_ms: this.retryAt });
      }
    } finally {
      this.running = false;
      this.manual = false;
      this.emit("status");
      this.emit("changed");
      if (this.channel) this.channel.postMessage("changed");
      if (this.again) { const why = this.again; this.again = false; setTimeout(() => this.syncNow(why), 0); }
    }
  }

  /** The next automatic try, `wait` ms from now (a little after a gate opens, never before it). */
  retryLater(wait) {
    wait = Math.max(0, wait) + 50;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.syncNow("retry"), wait);
    this.retryAt = Date.now() + wait;
  }

  /** api() for this run: a sync the person asked for goes through the server's "wait until". */
  call(method, path, body, headers) {
    return api(method, path, body, headers, { now: this.manual });
  }

  async _sync() {
    if (await this.store.kvGet("revoked")) return;
    const deviceId = await this.ensureDevice();
    await this.push(deviceId);
    await this.pull(deviceId);
    await this.fetchTemplates();
    await refreshDeadlines(this.store, (m, p, b, hd) => this.call(m, p, b, hd)); // every sync: a rule the province changed shows now
    await this.store.kvSet("last_sync_ms", Date.now());
    await this.store.kvSet("auth_needed", false);
    this.emit("changed");
    await this.uploadEvidence();
    await this.store.kvSet("last_sync_ms", Date.now());
  }

  async ensureDevice() {
    let id = await this.store.kvGet("device_id");
    if (id) return id;
    // Two phones of one person must be told apart in a conflict: the name says when this one registered.
    const platform = navigator.userAgentData?.platform || navigator.platform || "";
    const name = message("device_name", { platform, when: fmtDateTime(Date.now()) });
    // One key per registration, kept until an answer arrives: a POST re-sent after a lost answer gets
    // the same device back instead of making a second one.
    let key = await this.store.kvGet("device_registration_key");
    if (!key) {
      key = registrationKey();
      await this.store.kvSet("device_registration_key", key);
    }
    const res = await this.call("POST", "/api/devices", { name: name.slice(0, 120) }, { "Idempotency-Key": key });
    id = res.device_id;
    // A new device numbers its edits from last_seq + 1; what already waits is renumbered in order.
    await this.store.renumberOutbox((res.last_seq || 0) + 1);
    await this.store.kvSet("device_id", id);
    await this.store.kvSet("device_registration_key", null);
    await this.store.kvSet("cursor", null);
    return id;
  }

  async push(deviceId) {
    for (let round = 0; round < 1000; round++) {
      const batch = await this.store.outboxBatch(BATCH);
      if (!batch.length) return;
      const body = { protocol: protocolVersion(), device_id: deviceId, client_ms: Date.now(), edits: batch.map(wireEdit) };
      let res;
      try {
        res = await this.post("/api/sync/push", body);
      } catch (err) {
        // Sent, no answer: the server may have applied them. Say "not yet confirmed", not "unreachable".
        if (err.network) err.unconfirmed = batch.length;
        if (err.status === 404 && err.body?.error === "unknown_device") {
          await this.store.kvSet("device_id", null);
          deviceId = await this.ensureDevice();
          continue;
        }
        if (err.status === 409 && err.body?.error === "sequence_gap") {
          if (err.body.results) await this.store.applyResults(deviceId, err.body.results);
          await this.store.renumberOutbox(err.body.expected_seq);
          continue;
        }
        if (err.status === 403 && err.body?.error === "device_revoked") {
          await this.store.kvSet("revoked", true);
          this.emit("revoked");
          throw new Error(errorText("device_revoked"));
        }
        if (err.status === 426) {
          this.emit("update-needed");
          throw new Error(errorText("client_too_old"));
        }
        throw err;
      }
      await this.store.applyResults(deviceId, res.results || []);
      await this.store.kvSet("last_push_ms", Date.now());
      this.emit("changed");
    }
  }

  async post(path, body) {
    const json = JSON.stringify(body);
    if (this.gzipOk && json.length > 1024) {
      try {
        const gz = await new Response(new Blob([json]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
        return await this.call("POST", path, gz, { "Content-Type": "application/json", "Content-Encoding": "gzip" });
      } catch (err) {
        // A server that cannot read gzip bodies says so with 400/415/422: send plain from now on.
        if (![400, 415].includes(err.status) && !(err.status === 422 && err.body?.field === "body")) throw err;
        this.gzipOk = false;
      }
    }
    return this.call("POST", path, body);
  }

  async pull(deviceId) {
    let keep = null; // a reset is a full snapshot over several pages: drop what none of them had
    for (let page = 0; page < 10000; page++) {
      const cursor = await this.store.kvGet("cursor");
      const q = new URLSearchParams({ device_id: deviceId, limit: "500" });
      if (cursor) q.set("cursor", cursor);
      let res;
      try {
        res = await this.call("GET", "/api/sync/pull?" + q);
      } catch (err) {
        if (err.status === 404 && err.body?.error === "unknown_device") {
          await this.store.kvSet("device_id", null);
          deviceId = await this.ensureDevice();
          continue;
        }
        throw err;
      }
      if (res.reset) keep = new Set();
      if (keep) for (const c of res.checklists || []) keep.add(c.id);
      await this.store.applyPull(res, deviceId);
      if (res.devices) await this.store.rememberDevices(res.devices);
      await this.store.kvSet("server_offset_ms", (res.server_ms || Date.now()) - Date.now());
      if (!res.more) break;
    }
    if (keep) await this.store.dropChecklistsExcept(keep);
  }

  /** The templates of the phone's checklists, and every published one: a checklist started offline is
   * filled in from a template already on the phone. */
  async fetchTemplates() {
    let list = await this.store.kvGet("template_list");
    if (!list) {
      list = (await this.call("GET", "/api/templates")).templates;
      await this.store.kvSet("template_list", list);
    }
    const have = new Set((await this.store.templates()).map((t) => t.id));
    const wanted = [...(await this.store.checklists()).map((c) => c.template_id), ...list.map((t) => t.id)];
    const missing = [...new Set(wanted)].filter((id) => !have.has(id));
    const fetched = await Promise.all(missing.map((id) => this.call("GET", "/api/templates/" + id)));
    for (const t of fetched) await this.store.putTemplate(t);
  }

  /** Files go after the answers that name them, in chunks; a broken link resumes where it stopped. */
  async uploadEvidence() {
    for (const ev of await this.store.pendingUploads()) {
      const status = await this.call("GET", `/api/evidence/${ev.sha256}/status`);
      let offset = status.complete ? ev.size : status.received || 0;
      while (offset < ev.size) {
        const chunk = ev.blob.slice(offset, offset + CHUNK);
        const q = new URLSearchParams({ offset: String(offset), size: String(ev.size), mime: ev.mime });
        let res;
        try {
          res = await this.call("PUT", `/api/evidence/${ev.sha256}?${q}`, chunk, { "Content-Type": "application/octet-stream" });
        } catch (err) {
          if (err.status === 409 && typeof err.body?.received === "number") { offset = err.body.received; continue; }
          throw err;
        }
        offset = res.complete ? ev.size : res.received;
        this.uploadProgress.set(ev.sha256, offset / ev.size);
        await this.store.markUpload(ev.sha256, offset, res.complete);
        this.emit("upload", { sha256: ev.sha256, fraction: offset / ev.size });
      }
      await this.store.markUpload(ev.sha256, ev.size, true);
      this.emit("upload", { sha256: ev.sha256, fraction: 1 });
    }
  }
}

function wireEdit(e) {
  const out = { seq: e.seq, kind: e.kind, checklist_id: e.checklist_id, device_ms: e.device_ms };
  if (e.kind === "answer") {
    out.item_key = e.item_key;
    out.base_version = e.base_version || 0;
    if ("value" in e) out.value = e.value;
    if ("note" in e) out.note = e.note;
  } else if (e.kind === "status") {
    out.action = e.action;
    out.seen_version = e.seen_version;
    if (e.comment) out.comment = e.comment;
  } else if (e.kind === "create") {
    out.unit_id = e.unit_id;
    out.template_id = e.template_id;
    out.period = e.period;
  } else if (e.kind === "comment") {
    out.comment_id = e.comment_id;
    out.item_key = e.item_key || "";
    out.text = e.text;
  } else if (e.kind === "resolve") {
    delete out.checklist_id; // a resolve names only its conflict
    out.conflict_id = e.conflict_id;
    out.value = e.value;
  }
  return out;
}

/** What went wrong, as far as the phone can know: {kind, count?, status?, detail?} (syncstate.js words it).
 * A fetch that failed tells nothing of why; asking the server something small tells a lost answer (the
 * server is there) from a server that cannot be reached. */
async function describeFailure(err) {
  if (!navigator.onLine) return { kind: "offline" };
  if (err.retryAt) return { kind: "busy", scope: err.busyScope || "server", status: err.status || 0 };
  if (err.network) {
    const reachable = await serverReachable();
    if (!reachable) return { kind: "unreachable" };
    return err.unconfirmed ? { kind: "unconfirmed", count: err.unconfirmed } : { kind: "interrupted" };
  }
  if (err.status >= 500) return { kind: "server", status: err.status };
  return { kind: "refused", status: err.status || 0, detail: err.message || String(err) };
}

async function serverReachable() {
  try {
    const signal = typeof AbortSignal.timeout === "function" ? AbortSignal.timeout(5000) : undefined;
    const res = await fetch("/api/session", { credentials: "same-origin", cache: "no-store", signal });
    return res.status < 500;
  } catch {
    return false;
  }
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || errorText(body.error))) || message("server_error", { status }));
    this.status = status;
    this.body = body;
  }
}

/** An automatic request not sent: the server asked to wait until `retryAt` (Retry-After, retry.js). */
export class ServerBusy extends Error {
  constructor(retryAt, scope) {
    super(message("server_busy"));
    this.retryAt = retryAt;
    this.busyScope = scope;
    this.status = 0;
  }
}

/** A random Idempotency-Key (crypto.randomUUID needs a secure context; plain http on a LAN has none). */
function registrationKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** fetch() with JSON in and out; 401 becomes AuthNeeded; a network failure says so in Vietnamese.
 * A 503 or 429 with Retry-After closes the gate of retry.js: until then every request not marked
 * `{now: true}` (something the person pressed) fails with ServerBusy without touching the network. */
export async function api(method, path, body, headers = {}, { now = false } = {}) {
  const scope = scopeOf(path);
  if (!now) {
    const until = busyUntil(scope);
    if (until) throw new ServerBusy(until, scope);
  }
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (body !== undefined) {
    if (body instanceof Blob || body instanceof ArrayBuffer) init.body = body;
    else { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  }
  let res;
  const sentAt = Date.now();
  try {
    res = await fetch(path, init);
  } catch (err) {
    const e = new Error(message("network_down"));
    e.network = true;
    throw e;
  }
  let data = null;
  const text = await res.text();
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  let retryAt = 0;
  let busyScope = scope;
  if (res.status === 503 || res.status === 429) {
    const wait = parseRetryAfter(res.headers.get("Retry-After"), { serverDate: res.headers.get("Date") });
    // A database that cannot answer holds back everything, whichever request met it.
    if (data && data.error === "database_unavailable") busyScope = "server";
    if (wait !== null) retryAt = noteBusy(busyScope, Date.now() + withJitter(wait));
  } else if (res.ok) {
    clearBusy(scope, sentAt);
  }
  if (res.status === 401) throw new AuthNeeded((data && data.message) || errorText("not_authenticated"));
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (retryAt) { err.retryAt = retryAt; err.busyScope = busyScope; }
    throw err;
  }
  return data;
}

export { sha256Hex };
