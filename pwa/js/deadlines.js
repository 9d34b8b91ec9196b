// The unit's deadlines (/api/deadlines), kept on the phone under one key per unit so they show offline.
// Fetched again on every sync (sync.js), so a rule the province changed shows after the next sync; the
// answer carries the rules' version, which tells an old copy from a new one. Days are counted here from
// today in Vietnam, so a copy fetched last week still says how late a report is.
import { dueSoonDays } from "./catalogue.js";

const HANDED_IN = ["submitted", "approved"];

export function deadlinesKey(unitId) { return "deadlines:" + unitId; }

/** Fetch and keep the deadlines; a failure keeps the old copy (the sync reports the network itself). */
export async function refreshDeadlines(store, api) {
  try {
    const body = await api("GET", "/api/deadlines");
    if (body && body.unit_id) await store.kvSet(deadlinesKey(body.unit_id), { ...body, fetched_ms: Date.now() });
    return body;
  } catch {
    return null;
  }
}

/** The kept deadlines of a unit as of `today` ({y, m, d}), overdue first: null when never fetched.
 * `checklists` are the phone's own: a report handed in here and not yet sent already counts as done,
 * but only for its template AND its period. */
export async function deadlinesView(store, unitId, today, checklists, templates) {
  const kept = await store.kvGet(deadlinesKey(unitId));
  if (!kept) return null;
  const t0 = Date.UTC(today.y, today.m - 1, today.d);
  const codeOf = new Map(templates.map((t) => [t.id, t.code]));
  const handedIn = new Set(checklists.filter((c) => HANDED_IN.includes(c.status))
    .map((c) => (c.template_code || codeOf.get(c.template_id)) + "|" + c.period));
  const soon = dueSoonDays();
  const items = kept.deadlines.map((d) => {
    const [y, m, day] = d.due.split("-").map(Number);
    const days = Math.round((Date.UTC(y, m - 1, day) - t0) / 86400000);
    const done = d.status === "done" || handedIn.has(d.template_code + "|" + d.period);
    const status = done ? "done" : days < 0 ? "overdue" : days <= soon ? "due" : "upcoming";
    return { ...d, days, status };
  }).filter((d) => !(d.status === "done" && d.days < 0 && d.recurrence));
  items.sort((a, b) => a.due.localeCompare(b.due));
  return { items, rulesVersion: kept.rules_version, fetchedMs: kept.fetched_ms };
}
