import { prepareFile } from "../evidence.js";
import { choices, isDecider, message, periodLabel, reasonText } from "../catalogue.js";
import { statusCode, statusText } from "../review.js";
import { commentForm, commentList } from "./comments.js";
import { renderReview } from "./review.js";
import { bindText, draftKey } from "../drafts.js";
import {
  h, clear, fmtDateTime, valueText, isAnswered, fmtSize, progressBar, toast, confirmDialog,
} from "./common.js";

const TYPE_HINT = { number: "Nhập số", date: "Chọn ngày", text: "Nhập nội dung" };
let objectUrls = [];

export async function renderChecklist(main, ctx, id) {
  const { store } = ctx;
  const c = await store.checklist(id);
  const canonical = c ? null : await store.canonicalId(id);
  if (canonical) { ctx.go("#/c/" + canonical); return; } // created here too, but another phone was first
  if (!c) {
    clear(main);
    main.append(h("h1", { text: "Không tìm thấy phiếu" }),
      h("p", { text: "Phiếu chưa có trên máy này. Hãy kết nối mạng để tải về." }),
      h("a", { class: "btn", href: "#/" }, "Về trang chủ"));
    return;
  }
  const t = await store.template(c.template_id);
  if (!t) {
    clear(main);
    main.append(h("h1", { text: "Đang tải mẫu phiếu…" }), h("p", { text: "Cần có mạng để tải mẫu phiếu lần đầu." }),
      h("a", { class: "btn", href: "#/" }, "Về trang chủ"));
    ctx.syncer.syncNow("template");
    return;
  }
  // A unit below, seen by its reviewer: the review screen (answers read-only, comments, decisions).
  // (An admin, who also answers, reaches the form through "#/c/<id>/edit".)
  const editing = location.hash.endsWith("/edit");
  if (isDecider(ctx.user.role) && (!ctx.user.unit || c.unit_id !== ctx.user.unit.id) && !editing) {
    await renderReview(main, ctx, c, t);
    return;
  }
  const answers = await store.answers(id);
  const conflicts = await store.conflicts(id);
  const comments = await store.comments(id);
  ctx.deviceNames = await store.deviceNames();
  const pending = await store.pendingItems(id);
  const rejected = (await store.rejected()).filter((r) => r.checklist_id === id);
  const locked = c.status === "submitted" || c.status === "approved" || c.pending_action === "submit";
  document.title = t.title + " – e-ISO Xã";
  for (const u of objectUrls) URL.revokeObjectURL(u);
  objectUrls = [];

  const progressHolder = h("div", { class: "sticky-progress" });
  const updateProgress = () => {
    const done = t.items.filter((i) => isAnswered(answers.get(i.key)?.value)).length;
    clear(progressHolder);
    progressHolder.append(progressBar(done, t.items.length, "Tiến độ điền phiếu"));
  };
  updateProgress();

  const head = [
    h("p", { class: "crumb" }, h("a", { href: "#/" }, "← Trang chủ")),
    h("h1", { text: t.title }),
    h("p", { class: "cl-meta" },
      h("span", { class: "badge " + statusCode(c), id: "checklist-status", text: statusText(c) }),
      " ", periodLabel(c.period), " · Mẫu phiên bản " + (t.version || 1)),
  ];
  // Returned (or reopened): who and why, still said while the commune fixes it (the status is then a
  // draft again); the comments sit beside their items, the whole-checklist ones here at the top.
  const reopened = statusCode(c) === "reopened";
  if (c.status === "returned" || (c.status === "draft" && c.status_comment)) {
    head.push(h("div", { class: "notice warn", role: "note", id: "returned-notice" },
      h("strong", { text: message(reopened ? "reopened_notice" : "returned_notice", { who: c.status_by, when: fmtDateTime(c.status_ms) }) }),
      c.status_comment ? h("p", { text: message("returned_reason", { reason: c.status_comment }) }) : null,
      reopened ? null : h("p", { text: message("returned_fix") })));
  }
  const wholeComments = comments.filter((m) => !m.item_key);
  if (wholeComments.length) {
    head.push(h("section", { class: "card", id: "checklist-comments", "aria-labelledby": "h-cm-all" },
      h("h2", { id: "h-cm-all", text: message("comments_title") }), commentList(wholeComments),
      commentForm(ctx, c, "", message("comment_whole"), { summary: message("comment_reply") })));
  }
  if (locked) head.push(h("p", { class: "notice", role: "note", text: "Phiếu đã nộp: không sửa được cho đến khi người duyệt trả lại." }));
  if (conflicts.length) head.push(h("p", { class: "notice warn", role: "note", text: `Có ${conflicts.length} xung đột cần chọn giá trị (đánh dấu bên dưới).` }));

  const sections = [];
  let current = null;
  for (const item of t.items) {
    if (!current || current.name !== item.section) {
      current = { name: item.section, items: [] };
      sections.push(current);
    }
    current.items.push(item);
  }

  const body = sections.map((s, si) => h("section", { class: "cl-section", "aria-labelledby": "sec-" + si },
    h("h2", { id: "sec-" + si, text: s.name || "Nội dung" }),
    s.items.map((item) => itemCard(ctx, c, item, answers, conflicts, pending, rejected, locked, updateProgress,
      comments.filter((m) => m.item_key === item.key)))));

  const missing = t.items.filter((i) => i.required && !isAnswered(answers.get(i.key)?.value));
  const submit = h("button", { type: "button", class: "btn primary wide", id: "submit-btn", disabled: locked }, "Nộp phiếu");
  submit.addEventListener("click", async () => {
    const answersNow = await store.answers(id);
    const miss = t.items.filter((i) => i.required && !isAnswered(answersNow.get(i.key)?.value));
    const openConf = await store.conflicts(id);
    if (miss.length || openConf.length) {
      await confirmDialog({
        title: "Chưa nộp được",
        body: [
          miss.length ? `Còn ${miss.length} mục bắt buộc chưa trả lời: ${miss.slice(0, 3).map((i) => i.label).join("; ")}${miss.length > 3 ? "…" : ""}` : null,
          openConf.length ? `Còn ${openConf.length} xung đột chưa xử lý.` : null,
        ].filter(Boolean),
        buttons: [{ label: "Quay lại điền tiếp", value: "ok", primary: true }],
      });
      return;
    }
    const choice = await confirmDialog({
      title: "Nộp phiếu?",
      body: [`Bạn sắp nộp “${t.title}” (${periodLabel(c.period)}) cho cấp trên xem xét.`,
        "Sau khi nộp, phiếu không sửa được cho đến khi người duyệt trả lại. Nếu đang không có mạng, phiếu sẽ được nộp khi có mạng."],
      buttons: [{ label: "Huỷ", value: null }, { label: "Nộp phiếu", value: "submit", primary: true }],
    });
    if (choice !== "submit") return;
    const fresh = await store.checklist(id);
    await store.recordEdit({ kind: "status", checklist_id: id, action: "submit", seen_version: fresh.version || 0 });
    ctx.syncer.afterEdit();
    toast("Đã lưu yêu cầu nộp phiếu; sẽ gửi khi có mạng.");
    ctx.refresh();
  });

  clear(main);
  main.append(...head, progressHolder, ...body,
    h("div", { class: "card submit-card" },
      h("p", { class: "muted", text: missing.length ? `Còn ${missing.length} mục bắt buộc chưa trả lời.` : "Đã trả lời đủ các mục bắt buộc." }),
      submit));
}

function itemCard(ctx, c, item, answers, conflicts, pending, rejected, locked, updateProgress, comments = []) {
  const { store } = ctx;
  const a = answers.get(item.key) || { value: null, note: "", review_comment: "" };
  const id = "i-" + item.key;
  const saved = h("span", { class: "saved", "aria-live": "polite" });
  if (pending.has(item.key)) saved.textContent = "Chờ gửi";

  const save = async (fields, files = []) => {
    await store.recordEdit({ kind: "answer", checklist_id: c.id, item_key: item.key, ...fields }, files);
    const local = answers.get(item.key) || { value: null, note: "" };
    Object.assign(local, fields);
    answers.set(item.key, local);
    saved.textContent = "Đã lưu trên máy · chờ gửi";
    updateProgress();
    ctx.syncer.afterEdit();
  };

  const labelId = id + "-label";
  const label = h("h3", { class: "item-label", id: labelId },
    h("span", { text: item.label }),
    item.required ? h("span", { class: "req", title: "Bắt buộc" }, h("span", { "aria-hidden": "true", text: " *" }), h("span", { class: "sr-only", text: " (bắt buộc)" })) : null);

  const control = inputFor(ctx, c, item, a, id, labelId, locked, save);
  const noteId = id + "-note";
  const note = h("textarea", { id: noteId, rows: "2", disabled: locked, maxlength: "2000" });
  note.value = a.note || "";
  bindText(note, {
    key: draftKey(store.username, c.id, item.key, "note"),
    initial: a.note || "",
    read: () => note.value,
    stored: async () => (await store.answers(c.id)).get(item.key)?.note || "",
    commit: (v) => save({ note: v }),
  });

  const conflictBoxes = conflicts.filter((x) => x.item_key === item.key).map((x) => conflictBox(ctx, c, item, x, control));
  const rej = rejected.filter((r) => r.item_key === item.key);

  const reviewed = a.review_comment || comments.length;
  return h("article", { class: "item" + (conflictBoxes.length ? " has-conflict" : "") + (reviewed ? " has-review" : ""), id },
    label,
    item.reference ? h("p", { class: "ref", text: "Căn cứ: " + item.reference }) : null,
    item.help ? h("details", { class: "help" }, h("summary", { text: "Hướng dẫn" }), h("p", { text: item.help })) : null,
    a.review_comment ? h("div", { class: "review", role: "note" }, h("strong", { text: "Nhận xét của người duyệt: " }), a.review_comment) : null,
    comments.length ? h("div", { class: "review item-comments", role: "note" }, commentList(comments),
      commentForm(ctx, c, item.key, message("comment_item", { item: item.label }), { summary: message("comment_reply") })) : null,
    ...conflictBoxes,
    control,
    h("details", { class: "note", open: a.note ? true : null },
      h("summary", { text: a.note ? "Ghi chú" : "Thêm ghi chú" }),
      h("label", { for: noteId, class: "sr-only", text: "Ghi chú cho mục: " + item.label }), note),
    rej.map((r) => h("p", { class: "notice error", role: "note", text: "Máy chủ từ chối thay đổi: " + (r.message || reasonText(r.reason)) })),
    h("p", { class: "item-foot" }, saved,
      a.value_by ? h("span", { class: "muted", text: ` Sửa lần cuối: ${a.value_by}, ${fmtDateTime(a.value_ms)}` }) : null));
}

function inputFor(ctx, c, item, a, id, labelId, locked, save) {
  if (item.type === "choice") {
    const group = h("fieldset", { class: "choices", "aria-labelledby": labelId, disabled: locked },
      h("legend", { class: "sr-only", text: item.label }),
      choices().map(([v, text]) => {
        const rid = `${id}-${v}`;
        const input = h("input", { type: "radio", name: id, id: rid, value: v, checked: a.value === v });
        input.addEventListener("change", () => { if (input.checked) save({ value: v }); });
        return h("label", { class: "choice", for: rid }, input, h("span", { text: text }));
      }));
    group.dataset.kind = "choice";
    return group;
  }
  if (item.type === "evidence") return evidenceControl(ctx, item, a, id, labelId, locked, save);
  const attrs = { id: id + "-input", "aria-labelledby": labelId, disabled: locked };
  let input;
  if (item.type === "text") {
    input = h("textarea", { ...attrs, rows: "3", maxlength: "5000", placeholder: TYPE_HINT.text });
    input.value = a.value ?? "";
  } else if (item.type === "number") {
    input = h("input", { ...attrs, type: "number", inputmode: "decimal", step: "any", placeholder: TYPE_HINT.number });
    input.value = a.value ?? "";
  } else {
    input = h("input", { ...attrs, type: "date", lang: "vi" });
    input.value = a.value ?? "";
  }
  const read = () => {
    if (item.type === "number") return input.value === "" ? null : Number(input.value);
    if (item.type === "text") return input.value;
    return input.value || null;
  };
  bindText(input, {
    key: draftKey(ctx.store.username, c.id, item.key, "value"),
    initial: a.value ?? (item.type === "text" ? "" : null),
    read,
    valid: (v) => !(item.type === "number" && Number.isNaN(v)),
    stored: async () => (await ctx.store.answers(c.id)).get(item.key)?.value ?? (item.type === "text" ? "" : null),
    commit: (v) => save({ value: v }),
  });
  const wrap = h("div", { class: "field" }, input);
  if (item.type === "date" && a.value) wrap.append(h("p", { class: "muted", text: "Ngày đã chọn: " + valueText(a.value, "date") }));
  return wrap;
}

function evidenceControl(ctx, item, a, id, labelId, locked, save) {
  const files = Array.isArray(a.value) ? a.value : [];
  const list = h("ul", { class: "files" });
  const fill = async () => {
    clear(list);
    for (const f of files) {
      const local = await ctx.store.evidence(f.sha256);
      const frac = local ? (local.done ? 1 : (local.uploaded || 0) / (local.size || 1)) : 1;
      const state = !local || local.done ? "Đã tải lên" : frac > 0 ? `Đang tải lên ${Math.round(frac * 100)}%` : "Chờ tải lên";
      let thumb = null;
      if (local && local.blob && /^image\//.test(local.mime)) {
        const url = URL.createObjectURL(local.blob);
        objectUrls.push(url);
        thumb = h("img", { src: url, alt: "Ảnh " + f.name, class: "thumb", width: "64", height: "64" });
      }
      list.append(h("li", { class: "file" }, thumb,
        h("div", { class: "file-info" },
          h("span", { class: "file-name", text: f.name }),
          h("span", { class: "muted", text: fmtSize(f.size) + " · " + state }),
          h("progress", { max: "100", value: String(Math.round(frac * 100)), "aria-label": "Tải lên " + f.name })),
        locked ? null : h("button", {
          type: "button", class: "btn small", "aria-label": "Bỏ tệp " + f.name,
          onclick: () => save({ value: files.filter((x) => x.sha256 !== f.sha256) }).then(() => ctx.refresh()),
        }, "Bỏ")));
    }
  };
  fill();
  const inputId = id + "-file";
  const input = h("input", { type: "file", id: inputId, accept: "image/*,application/pdf", class: "file-input", disabled: locked });
  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    toast("Đang xử lý tệp…");
    try {
      const prepared = await prepareFile(file);
      if (files.some((f) => f.sha256 === prepared.sha256)) { toast("Tệp này đã được đính kèm."); return; }
      const meta = { sha256: prepared.sha256, name: prepared.name, size: prepared.size, mime: prepared.mime };
      await save({ value: [...files, meta] }, [prepared]);
      toast(`Đã lưu tệp trên máy (${fmtSize(prepared.size)}).`);
      ctx.refresh();
    } catch (err) {
      toast("Không đọc được tệp: " + (err.message || err));
    }
  });
  ctx.onUpload = () => { if (document.activeElement === document.body || !document.activeElement) fill(); };
  return h("div", { class: "evidence", role: "group", "aria-labelledby": labelId },
    list,
    locked ? null : h("label", { class: "btn file-btn", for: inputId }, "📷 Chụp ảnh hoặc chọn tệp"),
    input);
}

/** Who the conflict is between: two people by name, or two phones of one person by the phones' names. */
export function conflictWho(x, devices = {}, between = false) {
  const prefix = between ? "conflict_between_" : "conflict_";
  if (x.winner_by !== x.loser_by) return message(prefix + "people", { winner: x.winner_by, loser: x.loser_by });
  let winner = devices[x.winner_device] || message("device_unknown");
  let loser = devices[x.loser_device] || message("device_unknown");
  if (winner === loser) { // same name: the start of each id tells them apart
    winner += " #" + String(x.winner_device || "").slice(0, 4);
    loser += " #" + String(x.loser_device || "").slice(0, 4);
  }
  return message(prefix + "devices", { user: x.winner_by, winner_device: winner, loser_device: loser });
}

function conflictBox(ctx, c, item, x, control) {
  const type = x.field === "note" ? "text" : item.type;
  const resolve = async (value) => {
    await ctx.store.recordEdit({ kind: "resolve", checklist_id: c.id, item_key: item.key, conflict_id: x.id, field: x.field, value });
    ctx.syncer.afterEdit();
    toast("Đã chọn giá trị; sẽ gửi khi có mạng.");
    ctx.refresh();
  };
  const currentValue = async () => (await ctx.store.answers(c.id)).get(item.key)?.[x.field === "note" ? "note" : "value"];
  return h("div", { class: "conflict", role: "group", "aria-label": "Xung đột ở mục " + item.label },
    h("p", {}, h("strong", { text: x.field === "note" ? "Xung đột ghi chú" : "Xung đột giá trị" }),
      " — ", h("span", { class: "conflict-who", text: conflictWho(x, ctx.deviceNames) })),
    h("ul", { class: "conflict-values" },
      h("li", {}, h("span", { class: "cv-value", text: valueText(x.winner_value, type) }),
        h("span", { class: "muted", text: ` Đang dùng · ${x.winner_by}, ${fmtDateTime(x.winner_ms)}` }),
        h("button", { type: "button", class: "btn small", onclick: () => resolve(x.winner_value) }, "Giữ giá trị này")),
      h("li", {}, h("span", { class: "cv-value", text: valueText(x.loser_value, type) }),
        h("span", { class: "muted", text: ` Bị thay · ${x.loser_by}, ${fmtDateTime(x.loser_ms)}` }),
        h("button", { type: "button", class: "btn small", onclick: () => resolve(x.loser_value) }, "Chọn giá trị này"))),
    h("button", {
      type: "button", class: "btn small",
      onclick: async () => resolve(await currentValue()),
    }, "Dùng giá trị đang nhập ở dưới"));
}
