// Text being typed is one edit, recorded once when the official leaves the field, not once per pause or
// once per event (`change` and `blur` both used to record it). Until then it is a draft, kept in
// localStorage as it is typed (synchronous, so it survives the app being closed mid-word), and recorded
// once when the app opens again. The fields on screen are also recorded before another screen renders
// (a hash change does not blur the field that had focus).
const PREFIX = "eiso-draft:";

export function draftKey(username, checklistId, itemKey, field) {
  return PREFIX + JSON.stringify([username, checklistId, itemKey, field]);
}

export function saveDraft(key, value) {
  try { localStorage.setItem(key, JSON.stringify({ value })); } catch { /* storage full or denied: the field still saves on leaving */ }
}

export function dropDraft(key) {
  try { localStorage.removeItem(key); } catch { /* nothing kept */ }
}

/** [{key, checklistId, itemKey, field, value}] of one user. */
export function draftsOf(username) {
  const out = [];
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (!key || !key.startsWith(PREFIX)) continue;
    try {
      const [user, checklistId, itemKey, field] = JSON.parse(key.slice(PREFIX.length));
      if (user !== username) continue;
      out.push({ key, checklistId, itemKey, field, value: JSON.parse(localStorage.getItem(key)).value });
    } catch { dropDraft(key); }
  }
  return out;
}

/** Record each draft left by a closed app once (unless the stored answer already has it), then drop it. */
export async function recordDrafts(store) {
  for (const d of draftsOf(store.username)) {
    const a = (await store.answers(d.checklistId)).get(d.itemKey);
    const current = d.field === "note" ? (a?.note || "") : (a?.value ?? null);
    if (JSON.stringify(current) !== JSON.stringify(d.value)) {
      await store.recordEdit({ kind: "answer", checklist_id: d.checklistId, item_key: d.itemKey, [d.field]: d.value });
    }
    dropDraft(d.key);
  }
}

// The text fields on screen now: each records its value if it changed (before another screen renders).
const onScreen = new Set();

/** Bind a text-like field: a draft on every keystroke, one edit when the official leaves it. */
export function bindText(el, { key, initial, read, valid = () => true, stored = null, commit }) {
  let last = initial;
  const flush = async () => {
    const v = read();
    if (v === last) { dropDraft(key); return; }
    if (!valid(v)) return;
    last = v; // before the write: a second flush while it is written finds nothing to do
    // Another tab of this app may have recorded this very draft when it opened: nothing left to record.
    if (stored && JSON.stringify(await stored()) === JSON.stringify(v)) { dropDraft(key); return; }
    await commit(v);
    dropDraft(key);
  };
  el.addEventListener("input", () => { const v = read(); if (valid(v)) saveDraft(key, v); });
  el.addEventListener("blur", flush);
  onScreen.add(flush);
}

/** Record what the fields on screen hold, then forget them (the next screen binds its own). */
export async function flushFieldsOnScreen() {
  const pending = [...onScreen];
  onScreen.clear();
  for (const flush of pending) await flush();
}
