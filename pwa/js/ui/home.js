import { api } from "../sync.js";
import { isDecider, isEditor, message, periodLabel, recentPeriods } from "../catalogue.js";
import { statusText } from "../review.js";
import { queueSection } from "./queue.js";
import { failureText, readSyncState } from "../syncstate.js";
import { deadlinesView, refreshDeadlines } from "../deadlines.js";
import { deadlinesCard } from "./deadlines.js";
import { h, clear, fmtDateTime, todayVN, progressBar, isAnswered, toast } from "./common.js";


/** My unit's deadlines as kept on the phone (refreshed on every sync); fetched here only when the phone
 * has never had them. */
async function deadlinesFor(store, user, summaries) {
  if (!user.unit) return null;
  const mine = summaries.map((s) => ({ status: s.c.status, period: s.c.period, template_code: s.t ? s.t.code : s.c.template_code }));
  const view = () => deadlinesView(store, user.unit.id, todayVN(), mine, []);
  let out = await view();
  if (!out && navigator.onLine && await refreshDeadlines(store, api)) out = await view();
  return out;
}

const refreshed = new Map();
/** Fetch `key` again at most every 10 minutes, in the background: the screen never waits on the network
 * when a cached copy exists (a 2G round trip is seconds). Resolves to the new value or null. */
function refreshOnce(store, key, load) {
  const last = refreshed.get(key) || 0;
  if (!navigator.onLine || Date.now() - last < 600000) return Promise.resolve(null);
  refreshed.set(key, Date.now());
  return load().then(async (v) => { await store.kvSet(key, v); return v; }).catch(() => null);
}

export async function checklistSummaries(store, keep = () => true) {
  const list = (await store.checklists()).filter(keep);
  const answers = await store.allAnswers();
  const conflicts = await store.conflicts();
  const out = [];
  for (const c of list) {
    const t = await store.template(c.template_id);
    const items = t ? t.items : [];
    const answered = answers.filter((a) => a.checklist_id === c.id && isAnswered(a.value)
      && items.some((i) => i.key === a.item_key)).length;
    out.push({ c, t, answered, total: items.length, conflicts: conflicts.filter((x) => x.checklist_id === c.id).length });
  }
  out.sort((a, b) => (b.c.local_ms || b.c.updated_ms || 0) - (a.c.local_ms || a.c.updated_ms || 0));
  return out;
}

export async function renderHome(main, ctx) {
  const { store, user } = ctx;
  document.title = "Trang chủ – e-ISO Xã";
  // A decider's phone also holds the units below: those are the queue's, "my checklists" are my unit's.
  const decider = isDecider(user.role);
  const summaries = await checklistSummaries(store, (c) => !decider || !user.unit || c.unit_id === user.unit.id);
  const state = await readSyncState(store, ctx.syncer);
  const rejected = (await store.rejected()).length;
  const persisted = await store.kvGet("persisted");
  const openConflicts = summaries.reduce((s, x) => s + x.conflicts, 0);

  const frag = [];
  frag.push(h("h1", { text: "Xin chào, " + (user.full_name || user.username) }));
  if (decider) frag.push(await queueSection(ctx)); // a reviewer's home is the queue
  frag.push(h("section", { class: "card", "aria-labelledby": "h-unit" },
    h("h2", { id: "h-unit", text: "Đơn vị của tôi" }),
    h("p", { class: "unit-name", text: user.unit ? user.unit.name : "" }),
    h("p", { class: "muted", text: "Tài khoản: " + user.username })));

  // The same reading as the badge and the outbox (syncstate.js): edits and files counted apart.
  const syncLines = [
    h("p", {}, h("strong", { text: state.waiting ? message("waiting_edits", { count: state.waiting }) : message("waiting_none") })),
    state.files ? h("p", { text: message("waiting_files", { count: state.files }) }) : null,
    h("p", { class: "muted", text: state.lastSync ? message("last_sync", { when: fmtDateTime(state.lastSync) }) : message("never_synced") }),
    state.failure && state.online ? h("p", { class: "notice error", text: failureText(state.failure) }) : null,
  ].filter(Boolean);
  if (rejected) syncLines.push(h("p", { class: "notice error", text: `${rejected} thay đổi bị máy chủ từ chối — xem lý do.` }));
  if (openConflicts) syncLines.push(h("p", { class: "notice warn", text: `${openConflicts} xung đột cần xử lý.` }));
  if (persisted === false) syncLines.push(h("p", { class: "notice warn", text: "Trình duyệt chưa cho phép lưu trữ lâu dài: hãy cài ứng dụng lên màn hình chính và gửi dữ liệu thường xuyên." }));
  frag.push(h("section", { class: "card", "aria-labelledby": "h-sync" },
    h("h2", { id: "h-sync", text: "Đồng bộ" }), ...syncLines,
    h("a", { class: "btn", href: "#/outbox" }, "Xem hàng đợi gửi")));

  const due = await deadlinesFor(store, user, summaries);
  frag.push(deadlinesCard(due));

  const list = h("ul", { class: "checklists" });
  for (const s of summaries) {
    const title = s.t ? s.t.title : "Phiếu " + (s.c.template_code || "");
    list.append(h("li", {},
      h("a", { class: "cl-link", href: "#/c/" + s.c.id },
        h("span", { class: "cl-title", text: title }),
        h("span", { class: "cl-meta" },
          h("span", { class: "badge " + s.c.status, text: statusText(s.c) }),
          " ", periodLabel(s.c.period),
          s.conflicts ? h("span", { class: "badge conflict", text: ` ${s.conflicts} xung đột` }) : null),
        progressBar(s.answered, s.total, "Tiến độ " + title))));
  }
  if (!decider || summaries.length) {
    frag.push(h("section", { "aria-labelledby": "h-cl" },
      h("h2", { id: "h-cl", text: "Phiếu của tôi" }),
      summaries.length ? list : h("p", { class: "muted", text: "Chưa có phiếu nào. Tạo phiếu mới ở dưới." })));
  }

  if (isEditor(user.role) || !decider) frag.push(await newChecklistForm(ctx, due));
  frag.push(h("p", { class: "footer-actions" },
    h("button", { type: "button", class: "btn", onclick: () => ctx.logout() }, "Đăng xuất")));

  clear(main);
  main.append(...frag);
}

/** "Tạo phiếu" works offline: the template and the period are picked from lists (the periods come from
 * the catalogue's words, current first), the checklist is made here with its own id and a `create` edit
 * waits in the outbox; the server keeps one checklist per unit, template code and period. */
async function newChecklistForm(ctx, due) {
  const { store, user } = ctx;
  let templates = await store.kvGet("template_list");
  const fresh = refreshOnce(store, "template_list", async () => (await api("GET", "/api/templates")).templates);
  if (!templates) templates = (await fresh) || [];
  const select = h("select", { id: "new-template", name: "template" },
    templates.map((t) => h("option", { value: String(t.id) }, t.title)));
  const periods = h("select", { id: "new-period", name: "period" });
  const chosen = () => templates.find((x) => String(x.id) === select.value);
  const fillPeriods = () => {
    const t = chosen();
    // The periods a deadline still asks for come first (the annual report due in June 2027 is for 2026).
    const owed = t && due ? due.items.filter((d) => d.template_code === t.code && d.status !== "done").map((d) => d.period) : [];
    const list = [...new Set([...owed, ...(t ? recentPeriods(t.period_kind, todayVN()) : [])])];
    periods.replaceChildren(...list.map((p) => h("option", { value: p }, periodLabel(p))));
  };
  fillPeriods();
  select.addEventListener("change", fillPeriods);
  const button = h("button", { type: "submit", class: "btn primary", disabled: !templates.length || !user.unit }, "Tạo phiếu");
  const form = h("form", { class: "card form", "aria-labelledby": "h-new" },
    h("h2", { id: "h-new", text: "Tạo phiếu mới" }),
    h("div", { class: "field" }, h("label", { for: "new-template", text: "Mẫu phiếu" }), select),
    h("div", { class: "field" }, h("label", { for: "new-period", text: "Kỳ báo cáo" }), periods),
    h("p", { class: "muted", text: templates.length
      ? "Tạo được cả khi không có mạng: phiếu sẽ được gửi khi có mạng."
      : "Cần có mạng một lần để tải danh sách mẫu phiếu." }),
    button);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const t = chosen();
    const period = periods.value;
    if (!t || !period || !user.unit) return;
    button.disabled = true;
    try {
      // One checklist per unit, template CODE and period: one made on an older version is this one.
      let same = null;
      for (const c of await store.checklists()) {
        if (c.unit_id !== user.unit.id || c.period !== period) continue;
        const code = c.template_code || ((await store.template(c.template_id)) || {}).code;
        if (c.template_id === t.id || code === t.code) { same = c; break; }
      }
      if (same) {
        toast("Đơn vị đã có phiếu này cho kỳ " + periodLabel(period) + ".");
        ctx.go("#/c/" + same.id);
        return;
      }
      const id = crypto.randomUUID();
      await store.recordEdit({ kind: "create", checklist_id: id, unit_id: user.unit.id, template_id: t.id,
        template_code: t.code, period });
      ctx.syncer.afterEdit();
      ctx.go("#/c/" + id);
    } catch (err) {
      toast(err.message || "Không tạo được phiếu.");
      button.disabled = false;
    }
  });
  return form;
}
