// DOM helpers (no innerHTML: text always goes through textContent), and formats of dates, sizes and values.
// Labels come from the server's catalogue (../catalogue.js).
import { choiceLabel, timezone } from "../catalogue.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Formats in the catalogue's time zone (Vietnam's), made on first use: the catalogue loads at start.
let fmts = null;
function formats() {
  if (!fmts) {
    const timeZone = timezone();
    fmts = {
      date: new Intl.DateTimeFormat("vi-VN", { timeZone, day: "2-digit", month: "2-digit", year: "numeric" }),
      time: new Intl.DateTimeFormat("vi-VN", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }),
      parts: new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }),
    };
  }
  return fmts;
}

/** dd/mm/yyyy in Vietnam's time zone. */
export function fmtDate(ms) {
  if (ms === null || ms === undefined) return "";
  const p = Object.fromEntries(formats().date.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.day}/${p.month}/${p.year}`;
}
/** dd/mm/yyyy hh:mm in Vietnam's time zone. */
export function fmtDateTime(ms) {
  if (!ms) return "";
  return fmtDate(ms) + " " + formats().time.format(new Date(ms));
}
/** A time to come: "14:32" today in Vietnam, "04/12/2026 00:05" on another day. */
export function fmtClock(ms, now = Date.now()) {
  if (!ms) return "";
  if (fmtDate(ms) !== fmtDate(now)) return fmtDateTime(ms);
  return formats().time.format(new Date(ms));
}
/** "2026-06-30" -> "30/06/2026" */
export function fmtIsoDate(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || "");
  return m ? `${m[3]}/${m[2]}/${m[1]}` : s || "";
}
/** Today in Vietnam as {y, m, d}. */
export function todayVN(now = Date.now()) {
  const [y, m, d] = formats().parts.format(new Date(now)).split("-").map(Number);
  return { y, m, d };
}

export function valueText(value, type) {
  if (value === null || value === undefined || value === "") return "(trống)";
  if (type === "choice") return choiceLabel(value);
  if (type === "date") return fmtIsoDate(value);
  if (type === "evidence" && Array.isArray(value)) return value.map((f) => f.name).join(", ") || "(không có tệp)";
  if (typeof value === "number") return value.toLocaleString("vi-VN");
  return String(value);
}

export function isAnswered(value) {
  if (value === null || value === undefined) return false;
  if (typeof value === "string") return value.trim() !== "";
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

export function fmtSize(n) {
  if (n < 1024) return n + " B";
  if (n < 1024 * 1024) return (n / 1024).toFixed(0) + " KB";
  return (n / 1024 / 1024).toFixed(1).replace(".", ",") + " MB";
}

export function progressBar(done, total, label) {
  const pct = total ? Math.round((done * 100) / total) : 0;
  return h("div", { class: "progress" },
    h("progress", { max: String(total || 1), value: String(done), "aria-label": label }),
    h("span", { class: "progress-text", text: `${done}/${total} mục · ${pct}%` }));
}

let toastTimer;
export function toast(message) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("show"), 3500);
}

/** A modal confirmation with <dialog>; resolves to the chosen button's value or null. */
export function confirmDialog({ title, body, buttons }) {
  return new Promise((resolve) => {
    const titleId = "dlg-" + Math.random().toString(36).slice(2);
    const dlg = h("dialog", { class: "dialog", "aria-labelledby": titleId },
      h("h2", { id: titleId, text: title }),
      ...[].concat(body).map((p) => (p instanceof Node ? p : h("p", { text: p }))),
      h("div", { class: "dialog-actions" },
        buttons.map((b) => h("button", {
          type: "button", class: b.primary ? "btn primary" : b.danger ? "btn danger" : "btn",
          onclick: () => { dlg.close(); dlg.remove(); resolve(b.value); },
        }, b.label))));
    dlg.addEventListener("cancel", () => { dlg.remove(); resolve(null); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

export function clear(el) { while (el.firstChild) el.firstChild.remove(); }
