// When the server says "come back later" (503 or 429 with Retry-After: the database is busy or restarting,
// the evidence store cannot write, too many logins), every automatic request of the phone waits until then:
// the sync loop, its timers and triggers, and the screens' background fetches. At a deadline storm hundreds
// of phones must not come back on their own schedule, nor all in the same second.
//
// - `parseRetryAfter` reads the header: delay-seconds or an HTTP-date (the three forms of RFC 9110 §5.6.7),
//   a date measured against the response's own Date header when it has one (a phone's clock may be wrong
//   by hours), anything else is ignored; at most MAX_RETRY_AFTER_MS.
// - `withJitter` adds a little (never less than the server asked): 10% of the wait, 1 s to 30 s.
// - The gate (`busyUntil`, `noteBusy`, `clearBusy`) is kept in localStorage, so every tab and a reload
//   honour it too. Scope "server" holds every automatic request; scope "evidence" only the uploads of
//   files (a full or unwritable evidence store does not stop answers from going).
// A request the person asked for (a press of "Gửi ngay", logging in) goes at once: sync.js `api(..., {now})`.

export const MAX_RETRY_AFTER_MS = 10 * 60 * 1000;
const MAX_JITTER_MS = 30 * 1000;
const KEY = "eiso-retry-after";

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

function utc(year, mon, day, hh, mm, ss) {
  const month = MONTHS.indexOf(String(mon).toLowerCase());
  const [y, d, h, m, s] = [year, day, hh, mm, ss].map(Number);
  if (month < 0 || h > 23 || m > 59 || s > 60) return null;
  const t = Date.UTC(y, month, d, h, m, Math.min(s, 59));
  const back = new Date(t);
  if (back.getUTCDate() !== d || back.getUTCMonth() !== month) return null; // 31 Feb is no date
  return t;
}

/** An HTTP-date as ms since the epoch, or null: IMF-fixdate, RFC 850 or asctime (RFC 9110 §5.6.7). */
export function parseHttpDate(text) {
  const s = String(text ?? "").trim();
  let m = /^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/.exec(s);
  if (m) return utc(m[3], m[2], m[1], m[4], m[5], m[6]);
  m = /^[A-Za-z]{6,9}, (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/.exec(s);
  if (m) return utc(Number(m[3]) < 70 ? 2000 + Number(m[3]) : 1900 + Number(m[3]), m[2], m[1], m[4], m[5], m[6]);
  m = /^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/.exec(s);
  if (m) return utc(m[6], m[1], m[2].trim(), m[3], m[4], m[5]);
  return null;
}

/**
 * Retry-After as a wait in ms (0 to MAX_RETRY_AFTER_MS), or null when absent or not understood.
 * `now`: the phone's clock; `serverDate`: the response's Date header, against which a date is measured.
 */
export function parseRetryAfter(value, { now = Date.now(), serverDate = null } = {}) {
  if (value === null || value === undefined) return null;
  const s = String(value).trim();
  if (/^\d+$/.test(s)) return Math.min(Number(s) * 1000, MAX_RETRY_AFTER_MS);
  const at = parseHttpDate(s);
  if (at === null) return null;
  const reference = (serverDate ? parseHttpDate(serverDate) : null) ?? now;
  return Math.max(0, Math.min(at - reference, MAX_RETRY_AFTER_MS));
}

/** The wait plus a little at random, so phones told the same thing do not come back in the same second. */
export function withJitter(ms, random = Math.random) {
  const spread = Math.min(MAX_JITTER_MS, Math.max(1000, ms * 0.1));
  return ms + Math.floor(random() * spread);
}

// ---- the gate, shared by every tab --------------------------------------------------------------------
let memory = {}; // when localStorage cannot be used (private mode with no storage)

function readGate() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) || "{}");
    return v && typeof v === "object" ? v : {};
  } catch {
    return { ...memory };
  }
}

function writeGate(v) {
  memory = { ...v };
  try { localStorage.setItem(KEY, JSON.stringify(v)); } catch { /* memory only */ }
}

/** Which gate a request answers to: the file uploads have their own, everything else the server's. */
export function scopeOf(path) {
  if (String(path).startsWith("/api/evidence")) return "evidence";
  if (String(path).startsWith("/api/session")) return "login"; // a throttled login holds back nothing else
  return "server";
}

// The gate: {scope: {until, at}}, `at` when the server said it (ms since the epoch, the phone's clock).
const untilOf = (entry) => Number(entry && entry.until) || 0;

/** Until when (ms) an automatic request of `scope` must wait; 0 when it may go now. */
export function busyUntil(scope = "server", now = Date.now()) {
  const gate = readGate();
  const until = Math.max(untilOf(gate.server), scope === "server" ? 0 : untilOf(gate[scope]));
  return until > now ? until : 0;
}

/** The server asked `scope` to wait until `until` (ms since the epoch): its latest word counts. */
export function noteBusy(scope, until, now = Date.now()) {
  const gate = readGate();
  gate[scope] = { until, at: now };
  writeGate(gate);
  return until;
}

/** The server answered a request of `scope` sent at `sentAt`: that gate (and the server's) is open again,
 * unless the server closed it after the request left (an answer that was already on its way). */
export function clearBusy(scope, sentAt = Date.now()) {
  const gate = readGate();
  let changed = false;
  for (const s of new Set(["server", scope])) {
    if (gate[s] && !(Number(gate[s].at) > sentAt)) { delete gate[s]; changed = true; }
  }
  if (changed) writeGate(gate);
}
