// The inbox screen (#/inbox): every reminder this person got, newest first, and their channel choices.
// The list is kept in IndexedDB (store "inbox") so it opens offline; it is fetched again when online.
// Opening a message marks it read on the server (online) and on the phone.
import { api } from "../sync.js";
import { message } from "../catalogue.js";
import { h, clear, toast } from "./common.js";

async function cached(store) {
  const all = await store.db.getAll("inbox");
  return all.sort((a, b) => b.id - a.id);
}

async function refresh(store) {
  const data = await api("GET", "/api/inbox");
  const tx = store.db.transaction("inbox", "readwrite");
  await tx.store.clear();
  for (const m of data.messages) await tx.store.put(m);
  await tx.done;
  return data.messages;
}

async function markRead(store, m) {
  if (m.read) return;
  m.read = true;
  await store.db.put("inbox", m);
  try { await api("POST", `/api/inbox/${m.id}/read`); } catch { /* read again later; the phone knows */ }
}

function messageItem(store, m) {
  const body = h("div", { class: "inbox-body" }, ...m.body.split("\n").map((line) => h("p", { text: line })));
  const item = h("li", { class: "inbox-item" + (m.read ? "" : " unread"), dataset: { id: m.id } },
    h("h3", { text: m.title }),
    m.read ? null : h("span", { class: "pill", text: message("inbox_unread") }),
    body,
    m.url ? h("a", { class: "btn", href: m.url, onclick: () => markRead(store, m) }, message("inbox_open")) : null);
  return item;
}

function prefsForm(prefs) {
  const push = h("input", { type: "checkbox", id: "pref-push", checked: prefs.push });
  const email = h("input", { type: "checkbox", id: "pref-email", checked: prefs.email });
  const address = h("input", { type: "email", id: "pref-email-address", value: prefs.email_address || "", autocomplete: "email" });
  const form = h("form", { class: "card", id: "notify-prefs" },
    h("h2", { text: message("prefs_title") }),
    h("p", {}, push, " ", h("label", { for: "pref-push", text: message("prefs_push") })),
    h("p", {}, email, " ", h("label", { for: "pref-email", text: message("prefs_email") })),
    h("p", {}, h("label", { for: "pref-email-address", text: message("prefs_email_address") }), address),
    h("button", { type: "submit", class: "btn primary" }, message("prefs_save")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("PUT", "/api/notify/prefs", { push: push.checked, email: email.checked, email_address: address.value.trim() }, {}, { now: true });
      toast(message("prefs_saved"));
    } catch (err) {
      toast(err.network ? message("prefs_offline") : err.message);
    }
  });
  return form;
}

export async function renderInbox(main, ctx) {
  const store = ctx.store;
  let list = await cached(store);
  let fresh = false;
  let prefs = await store.kvGet("notify_prefs");
  if (navigator.onLine) {
    try { list = await refresh(store); fresh = true; } catch { /* the saved copy */ }
    try { prefs = await api("GET", "/api/notify/prefs"); await store.kvSet("notify_prefs", prefs); } catch { /* saved */ }
  }
  // Everything is read first, then the screen is replaced at once: two renders racing (a hash change
  // and a refresh) each leave one whole screen, never one screen with parts of both.
  clear(main);
  main.append(h("h1", { text: message("inbox_title") }));
  if (!fresh) main.append(h("p", { class: "notice", role: "status", text: message("inbox_saved_copy") }));
  if (!list.length) main.append(h("p", { id: "inbox-empty", text: message("inbox_empty") }));
  else main.append(h("ul", { class: "inbox", id: "inbox-list" }, ...list.map((m) => messageItem(store, m))));
  if (prefs) main.append(prefsForm(prefs));
}
