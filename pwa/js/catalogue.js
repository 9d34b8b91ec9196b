// The server's words: /app/catalogue.json (server/catalogue.py for_client()), precached with the shell
// and part of its version, so the words always match the code that shows them. Loaded once at start,
// from the service worker's cache when offline. Every label and message the phone shows for checklist
// statuses, answer choices, rejection reasons, roles and errors, and the protocol version, come from here:
// the phone keeps no copy of its own.

let data = null;

/** Fetch the catalogue (the service worker answers from its cache); call before anything renders. */
export async function loadCatalogue() {
  const res = await fetch("/app/catalogue.json", { credentials: "same-origin" });
  if (!res.ok) throw new Error("catalogue.json " + res.status);
  data = await res.json();
  return data;
}

export function protocolVersion() { return data.protocol; }
export function timezone() { return data.timezone; }
export function statusLabel(code) { return data.checklist_statuses[code] || code; }
export function roleLabel(code) { return data.roles[code] || code; }
/** [[code, label], …] in the catalogue's order. */
export function choices() { return Object.entries(data.choices); }
export function choiceLabel(code) { return data.choices[code] ?? String(code); }
/** Why one edit was not applied, by its reason code. */
export function reasonText(code) { return data.reasons[code] || code; }
/** The message of a wire error code (`{"error": code}`), or null when the catalogue has none. */
export function errorText(code) { return data.errors[code] || null; }

/** How a period ("2026-11", "2026", "once") reads, in the catalogue's words. */
export function periodLabel(period) {
  const month = /^(\d{4})-(\d{2})$/.exec(period);
  if (month) return fill(data.period_labels.month, { year: month[1], month: month[2] });
  if (/^\d{4}$/.test(period)) return fill(data.period_labels.year, { year: period });
  if (period === "once") return data.period_labels.once;
  return period;
}

/** The periods a create form offers for a template of `kind` ("month", "year", "once"), the current one
 * first, counted from `today` ({y, m, d} in Vietnam); how many comes from the catalogue. */
export function recentPeriods(kind, today) {
  const n = (data.period_recent && data.period_recent[kind]) || 1;
  const out = [];
  if (kind === "month") {
    let y = today.y, m = today.m;
    for (let i = 0; i < n; i++) {
      out.push(`${y}-${String(m).padStart(2, "0")}`);
      if (m === 1) { y -= 1; m = 12; } else m -= 1;
    }
  } else if (kind === "year") {
    for (let i = 0; i < n; i++) out.push(String(today.y - i));
  } else {
    out.push("once");
  }
  return out;
}

/** A message by name, `{placeholders}` filled from `values`. */
export function message(name, values = {}) {
  const text = data.messages[name];
  return text === undefined ? name : fill(text, values);
}

function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));
}

/** Where a unit stands with a deadline, in the catalogue's words: "today" is a due item's last day. */
export function dueStatusLabel(status, days) {
  const key = status === "due" && days === 0 ? "today" : status;
  return fill(data.due_statuses[key] || status, { n: Math.abs(days) });
}
/** From how many days before its date a deadline counts as "due". */
export function dueSoonDays() { return data.due_soon_days; }
