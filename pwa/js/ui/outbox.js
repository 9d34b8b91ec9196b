import { message, periodLabel, reasonText } from "../catalogue.js";
import { failureText, readSyncState, retryText } from "../syncstate.js";
import { conflictWho } from "./checklist.js";
import { actionText } from "../review.js";
import { h, clear, fmtDateTime, fmtSize, valueText, toast } from "./common.js";

const KIND = { answer: "Trả lời", status: "Nộp / trạng thái", resolve: "Xử lý xung đột", create: "Tạo phiếu", comment: "Nhận xét" };

async function itemLabel(store, checklistId, key) {
  const c = await store.checklist(checklistId);
  const t = c && (await store.template(c.template_id));
  const item = t && t.items.find((i) => i.key === key);
  return { title: t ? t.title : "Phiếu", label: item ? item.label : key || "", type: item ? item.type : "text" };
}

/** "3 thay đổi đang chờ gửi." with the number in bold (#waiting-count), from the catalogue's sentence. */
function waitingLine(count) {
  if (!count) return h("p", { class: "big-count", id: "waiting-line", text: message("waiting_none") });
  const [before, after] = message("waiting_edits", { count: "\u0000" }).split("\u0000");
  return h("p", { class: "big-count", id: "waiting-line" }, before, h("strong", { id: "waiting-count", text: String(count) }), after);
}

export async function renderOutbox(main, ctx) {
  const { store, syncer } = ctx;
  document.title = "Hàng đợi gửi – e-ISO Xã";
  const outbox = await store.outbox();
  const uploads = await store.pendingUploads();
  const rejected = await store.rejected();
  const persisted = await store.kvGet("persisted");
  const state = await readSyncState(store, syncer);

  // The same reading as the top badge: the count, whether the last send failed and why, when it retries.
  const status = [
    waitingLine(state.waiting),
    h("p", { id: "files-line", text: state.files ? message("waiting_files", { count: state.files }) : message("waiting_files_none") }),
    h("p", { class: "muted", id: "last-sync", text: state.lastSync ? message("last_sync", { when: fmtDateTime(state.lastSync) }) : message("never_synced") }),
    h("p", { class: "muted", text: state.online ? message("state_online") : message("state_offline") }),
  ];
  if (state.authNeeded) status.push(h("p", { class: "notice warn", text: message("state_auth") }));
  if (state.failure) {
    const retry = syncer && syncer.retryAt ? syncer.retryAt : state.failure.retry_ms;
    status.push(h("div", { class: "notice error", id: "last-failure", role: "status" },
      h("p", { text: failureText(state.failure) }),
      state.online ? h("p", { id: "retry-at", dataset: { retryAt: String(retry || 0) }, text: retryText(retry) }) : null));
  }
  status.push(h("p", { class: "muted", text: persisted ? "Dữ liệu trên máy được lưu lâu dài." : "Trình duyệt chưa cho lưu trữ lâu dài; nên cài ứng dụng lên màn hình chính." }));
  const sendBtn = h("button", { type: "button", class: "btn primary wide", disabled: !navigator.onLine },
    navigator.onLine ? "Gửi ngay" : "Gửi ngay (cần có mạng)");
  sendBtn.addEventListener("click", async () => {
    sendBtn.disabled = true;
    sendBtn.textContent = "Đang gửi…";
    await syncer.syncNow("manual");
    toast((await store.outboxCount()) ? message("send_not_done") : message("send_done"));
    ctx.refresh();
  });

  const frag = [
    h("p", { class: "crumb" }, h("a", { href: "#/" }, "← Trang chủ")),
    h("h1", { text: "Hàng đợi gửi" }),
    h("section", { class: "card", "aria-labelledby": "h-st" }, h("h2", { id: "h-st", text: "Tình trạng" }), ...status, sendBtn),
  ];

  if (uploads.length) {
    frag.push(h("section", { class: "card", "aria-labelledby": "h-up" }, h("h2", { id: "h-up", text: "Tệp đang tải lên" }),
      h("ul", { class: "files" }, uploads.map((u) => {
        const pct = Math.round(((u.uploaded || 0) * 100) / (u.size || 1));
        return h("li", { class: "file" }, h("div", { class: "file-info" },
          h("span", { class: "file-name", text: u.name }),
          h("span", { class: "muted", text: `${fmtSize(u.size)} · ${pct}%` }),
          h("progress", { max: "100", value: String(pct), "aria-label": "Tải lên " + u.name })));
      }))));
  }

  const rejItems = [];
  for (const r of rejected) {
    const info = await itemLabel(store, r.checklist_id, r.item_key);
    const retry = r.edit && r.kind === "answer" ? h("button", { type: "button", class: "btn small" }, "Thử lại") : null;
    if (retry) retry.addEventListener("click", async () => {
      const e = r.edit;
      const fields = {};
      if ("value" in e) fields.value = e.value;
      if ("note" in e) fields.note = e.note;
      await store.recordEdit({ kind: "answer", checklist_id: e.checklist_id, item_key: e.item_key, ...fields });
      await store.dismissRejected(r.id);
      syncer.afterEdit();
      toast("Đã đưa lại vào hàng đợi.");
      ctx.refresh();
    });
    const dismiss = h("button", { type: "button", class: "btn small" }, "Đã hiểu, ẩn đi");
    dismiss.addEventListener("click", async () => { await store.dismissRejected(r.id); ctx.refresh(); });
    rejItems.push(h("li", { class: "rejected" },
      h("p", {}, h("strong", { text: r.kind === "status" ? message("outbox_decision", { action: actionText(r.action || r.edit?.action) })
        : KIND[r.kind] || r.kind }),
        " · ", info.title, info.label ? " · " + info.label : ""),
      r.kind === "comment" && r.edit ? h("p", { class: "muted", text: r.edit.text }) : null,
      r.version ? h("p", { class: "muted", text: message("review_refused_version", { version: r.version }) }) : null,
      r.edit && "value" in r.edit ? h("p", { class: "muted", text: "Giá trị: " + valueText(r.edit.value, info.type) }) : null,
      h("p", { class: "reason", text: "Lý do: " + (r.message || reasonText(r.reason)) }),
      h("p", { class: "row" }, retry, dismiss)));
  }
  frag.push(h("section", { class: "card", "aria-labelledby": "h-rej" },
    h("h2", { id: "h-rej", text: "Thay đổi bị từ chối" }),
    rejItems.length ? h("ul", { class: "plain" }, rejItems)
      : h("p", { class: "muted", text: "Không có thay đổi nào bị từ chối." })));

  const conflicts = await store.conflicts();
  const devices = await store.deviceNames();
  if (conflicts.length) {
    const items = [];
    for (const x of conflicts) {
      const info = await itemLabel(store, x.checklist_id, x.item_key);
      items.push(h("li", {}, h("a", { href: `#/c/${x.checklist_id}` }, `${info.title}: ${info.label}`),
        h("span", { class: "muted", text: " — " + conflictWho(x, devices, true) })));
    }
    frag.push(h("section", { class: "card", "aria-labelledby": "h-conf" },
      h("h2", { id: "h-conf", text: "Xung đột cần xử lý" }), h("ul", { class: "plain" }, items)));
  }

  const waitItems = [];
  for (const e of outbox.slice(0, 50)) {
    const info = await itemLabel(store, e.checklist_id, e.item_key);
    const what = e.kind === "answer"
      ? ("value" in e ? valueText(e.value, info.type) : "Ghi chú: " + (e.note || "(trống)"))
      : e.kind === "status" ? message("outbox_decision", { action: actionText(e.action) }) + (e.comment ? ": " + e.comment : "")
      : e.kind === "comment" ? KIND.comment + ": " + e.text
      : e.kind === "create" ? "Tạo phiếu " + periodLabel(e.period) : "Chọn: " + valueText(e.value, info.type);
    waitItems.push(h("li", {}, h("span", { text: `${info.label || info.title}` }), h("span", { class: "muted", text: " → " + what + " · " + fmtDateTime(e.device_ms) })));
  }
  frag.push(h("section", { class: "card", "aria-labelledby": "h-wait" },
    h("h2", { id: "h-wait", text: "Đang chờ gửi" }),
    waitItems.length ? h("ol", { class: "plain" }, waitItems) : h("p", { class: "muted", text: "Không có gì đang chờ." }),
    outbox.length > 50 ? h("p", { class: "muted", text: `… và ${outbox.length - 50} thay đổi khác` }) : null));

  clear(main);
  main.append(...frag);
}
