// A checklist of a unit below, as its reviewer sees it: status, a refused decision said plainly, what
// changed since the reviewer's last decision (old → new, who, when), open conflicts (settled only by
// choosing one of the values entered), comments (whole checklist and per item), answers with evidence,
// the history, and the decisions (return and reopen with a reason, approve naming the version seen).
// Every comment and decision is an edit in the outbox: it works offline and goes exactly once.
import { eventLabel, isEditor, message, periodLabel, reasonText } from "../catalogue.js";
import {
  actionText, changesSince, refreshReviewData, rememberDecision, statusCode, statusText, unitNames, unitText,
} from "../review.js";
import { commentForm, commentList } from "./comments.js";
import { conflictWho } from "./checklist.js";
import { h, clear, fmtDateTime, fmtSize, valueText, toast, confirmDialog } from "./common.js";

export async function renderReview(main, ctx, c, t) {
  const { store } = ctx;
  const id = c.id;
  const [answers, conflicts, comments, units, rejectedAll, changes] = await Promise.all([
    store.answers(id), store.conflicts(id), store.comments(id), unitNames(store), store.rejected(), changesSince(store, c),
  ]);
  const timeline = await store.kvGet("timeline:" + id);
  ctx.deviceNames = await store.deviceNames();
  const refused = rejectedAll.filter((r) => r.checklist_id === id && r.kind === "status");
  const itemLabel = (key) => (t.items.find((i) => i.key === key) || { label: key }).label;
  const itemType = (key) => (t.items.find((i) => i.key === key) || { type: "text" }).type;
  document.title = t.title + " – e-ISO Xã";
  refreshReviewData(store, c, comments.length, () => ctx.refresh());

  const frag = [
    h("p", { class: "crumb" }, h("a", { href: "#/" }, "← Trang chủ")),
    h("h1", { text: t.title }),
    h("p", { class: "cl-meta" },
      h("span", { class: "badge " + statusCode(c), id: "review-status", text: statusText(c) }),
      " ", periodLabel(c.period), " · ", message("review_version", { version: c.version || 0 })),
    h("p", { class: "unit-name", text: message("review_unit", { unit: unitText(units, c.unit_id) }) }),
  ];
  // An admin also answers items: the same checklist's form is one tap away.
  if (isEditor(ctx.user.role)) frag.push(h("p", {}, h("a", { class: "btn", href: `#/c/${id}/edit` }, message("review_edit_answers"))));
  if (c.status !== "draft" && c.status_by) {
    const line = c.status === "submitted" ? message("review_submitted_by", { who: c.status_by, when: fmtDateTime(c.status_ms) })
      : c.status === "returned" ? message("returned_notice", { who: c.status_by, when: fmtDateTime(c.status_ms) })
      : c.status === "approved" ? message("approved_notice", { version: c.approved_version ?? c.version }) : "";
    if (line) frag.push(h("p", { class: "muted", text: line }));
  }
  if (c.status_comment && ["returned", "draft"].includes(c.status)) {
    frag.push(h("p", { class: "muted", text: message("returned_reason", { reason: c.status_comment }) }));
  }
  // A decision the server refused is never silent: said here (and in the outbox) until dismissed there.
  for (const r of refused.slice(-3)) {
    frag.push(h("div", { class: "notice error refused-decision", role: "alert" },
      h("p", { text: message("review_refused", { action: actionText(r.action || r.edit?.action), reason: r.message || reasonText(r.reason) }) }),
      r.version ? h("p", { text: message("review_refused_version", { version: r.version }) }) : null));
  }

  frag.push(changesCard(changes, itemLabel, itemType));
  if (conflicts.length) frag.push(conflictsCard(ctx, c, conflicts, itemLabel, itemType));

  const whole = comments.filter((m) => !m.item_key);
  frag.push(h("section", { class: "card", "aria-labelledby": "h-cm-all" },
    h("h2", { id: "h-cm-all", text: message("comment_whole") }),
    commentList(whole), commentForm(ctx, c, "", message("comment_whole"), { open: !whole.length })));

  frag.push(h("section", { "aria-labelledby": "h-answers" },
    h("h2", { id: "h-answers", text: message("review_answers") }),
    t.items.map((item) => answerCard(ctx, c, item, answers.get(item.key), comments.filter((m) => m.item_key === item.key)))));

  frag.push(evidenceCard(t, answers));
  frag.push(timelineCard(c, timeline, comments, itemLabel));
  frag.push(decisionCard(ctx, c, conflicts));

  clear(main);
  main.append(...frag);
}

function changesCard(changes, itemLabel, itemType) {
  let body;
  if (!changes) body = [h("p", { class: "muted", text: navigator.onLine ? message("review_changes_first") : message("review_changes_offline") })];
  else if (!changes.items.length) body = [h("p", { class: "muted", text: message("review_changes_none") })];
  else {
    body = [h("ul", { class: "changes plain", id: "review-changes" }, changes.items.map((x) => {
      const type = itemType(x.item_key);
      const lines = [];
      if (JSON.stringify(x.old_value ?? null) !== JSON.stringify(x.new_value ?? null)) {
        lines.push(h("p", { class: "change-value", text: message("review_change_line", { old: valueText(x.old_value, type), new: valueText(x.new_value, type) }) }));
      }
      if ((x.old_note || "") !== (x.new_note || "")) {
        lines.push(h("p", { class: "change-note", text: "Ghi chú: " + message("review_change_line", { old: x.old_note || "(trống)", new: x.new_note || "(trống)" }) }));
      }
      return h("li", { class: "change", dataset: { itemKey: x.item_key } },
        h("strong", { text: itemLabel(x.item_key) }), ...lines,
        x.by || x.at_ms ? h("p", { class: "muted", text: message("review_change_by", { who: x.by || "", when: fmtDateTime(x.at_ms) }) }) : null);
    }))];
  }
  const known = changes && changes.since !== null && changes.since !== undefined;
  return h("section", { class: "card", "aria-labelledby": "h-changes" },
    h("h2", { id: "h-changes", text: message("review_changes") }),
    known ? h("p", { class: "muted", text: message("review_changes_since", { since: changes.since }) }) : null, ...body);
}

/** A reviewer settles a conflict only by choosing one of the two values that were entered. */
function conflictsCard(ctx, c, conflicts, itemLabel, itemType) {
  const resolve = async (x, value) => {
    await ctx.store.recordEdit({ kind: "resolve", checklist_id: c.id, item_key: x.item_key, conflict_id: x.id, field: x.field, value });
    ctx.syncer.afterEdit();
    toast("Đã chọn giá trị; sẽ gửi khi có mạng.");
    ctx.refresh();
  };
  return h("section", { class: "card", "aria-labelledby": "h-conf" },
    h("h2", { id: "h-conf", text: message("review_conflicts") + ` (${conflicts.length})` }),
    h("ul", { class: "plain" }, conflicts.map((x) => {
      const type = x.field === "note" ? "text" : itemType(x.item_key);
      const side = (value, who, ms) => h("li", {},
        h("span", { class: "cv-value", text: valueText(value, type) }),
        h("span", { class: "muted", text: ` ${who}, ${fmtDateTime(ms)} ` }),
        h("button", { type: "button", class: "btn small", disabled: x.status !== "open" || null, onclick: () => resolve(x, value) },
          message("review_conflict_pick")));
      return h("li", { class: "conflict", dataset: { conflictId: x.id } },
        h("p", {}, h("strong", { text: itemLabel(x.item_key) }), " — ", conflictWho(x, ctx.deviceNames, true)),
        h("ul", { class: "conflict-values" }, side(x.winner_value, x.winner_by, x.winner_ms), side(x.loser_value, x.loser_by, x.loser_ms)));
    })));
}

function answerCard(ctx, c, item, a, comments) {
  const files = item.type === "evidence" && a && Array.isArray(a.value) ? a.value : [];
  return h("article", { class: "item review-item" + (comments.length ? " has-review" : ""), id: "r-" + item.key },
    h("h3", { class: "item-label", text: item.label }),
    item.reference ? h("p", { class: "ref", text: "Căn cứ: " + item.reference }) : null,
    item.type === "evidence"
      ? (files.length ? fileLinks(files) : h("p", { class: "answer-value", text: valueText(null) }))
      : h("p", { class: "answer-value", text: valueText(a ? a.value : null, item.type) }),
    a && a.note ? h("p", { class: "muted answer-note", text: "Ghi chú: " + a.note }) : null,
    a && a.value_by ? h("p", { class: "muted", text: `${a.value_by}, ${fmtDateTime(a.value_ms)}` }) : null,
    commentList(comments),
    commentForm(ctx, c, item.key, message("comment_item", { item: item.label })));
}

function fileLinks(files) {
  return h("ul", { class: "files" }, files.map((f) => h("li", { class: "file" },
    h("a", { href: "/api/evidence/" + f.sha256, target: "_blank", rel: "noopener" }, f.name),
    h("span", { class: "muted", text: " " + fmtSize(f.size || 0) }))));
}

function evidenceCard(t, answers) {
  const files = [];
  for (const item of t.items) {
    const a = answers.get(item.key);
    if (item.type === "evidence" && a && Array.isArray(a.value)) files.push(...a.value);
  }
  return h("section", { class: "card", "aria-labelledby": "h-ev" },
    h("h2", { id: "h-ev", text: message("review_evidence") }),
    files.length ? fileLinks(files) : h("p", { class: "muted", text: message("review_evidence_none") }));
}

/** The server's timeline when the phone has fetched it, else what the phone knows: its comments. */
function timelineCard(c, timeline, comments, itemLabel) {
  let events;
  if (timeline && timeline.events.length) {
    events = timeline.events.map((e) => ({
      kind: e.kind || e.action || e.event, who: e.by_name || e.author_name || e.by || e.who || e.author || "",
      ms: e.at_ms ?? e.ms ?? e.created_ms ?? e.status_ms, version: e.version ?? e.checklist_version,
      text: e.comment || e.text || "", item: e.item_key ? itemLabel(e.item_key) : "",
    }));
  } else {
    // Offline before the first fetch: what the synced data tells, the comments and the last status change.
    events = comments.map((m) => ({ kind: "comment", who: m.author_name || m.author, ms: m.created_ms,
      version: m.checklist_version, text: m.text, item: m.item_key ? itemLabel(m.item_key) : "" }));
    const last = { submitted: "submit", returned: "return", approved: "approve" }[c.status] || (c.reopened ? "reopen" : null);
    if (last && c.status_ms) {
      events.push({ kind: last, who: c.status_by, ms: c.status_ms, version: last === "approve" ? c.approved_version : null,
        text: last === "return" || last === "reopen" ? c.status_comment : "", item: "" });
    }
    events.sort((a, b) => (a.ms || 0) - (b.ms || 0));
  }
  const body = events.length
    ? h("ol", { class: "timeline plain" }, events.map((e) => h("li", {},
      h("strong", { text: eventLabel(e.kind) }),
      h("span", { class: "muted", text: ` · ${e.who} · ${fmtDateTime(e.ms)}` + (e.version !== undefined && e.version !== null ? " · " + message("review_version", { version: e.version }) : "") }),
      e.item ? h("p", { class: "muted", text: e.item }) : null,
      e.text ? h("p", { text: e.text }) : null)))
    : h("p", { class: "muted", text: message("review_timeline_offline") });
  return h("section", { class: "card", "aria-labelledby": "h-tl" }, h("h2", { id: "h-tl", text: message("review_timeline") }), body);
}

/** Return (a reason), approve (the version on screen), reopen (a reason): each one edit in the outbox. */
function decisionCard(ctx, c, conflicts) {
  const { store } = ctx;
  const reason = h("textarea", { id: "decision-reason", rows: "3", maxlength: "4000" });
  const decide = async (action) => {
    const comment = reason.value.trim();
    if ((action === "return" || action === "reopen") && !comment) {
      toast(message("review_reason_needed"));
      reason.focus();
      return;
    }
    if (action === "approve") {
      const ok = await confirmDialog({
        title: message("review_approve"),
        body: [message("review_approve_note", { version: c.version || 0 })],
        buttons: [{ label: "Huỷ", value: null }, { label: message("review_approve"), value: "yes", primary: true }],
      });
      if (ok !== "yes") return;
    }
    for (const b of buttons) b.disabled = true; // one press, one edit
    if (action !== "reopen") await rememberDecision(store, c);
    await store.recordEdit({ kind: "status", checklist_id: c.id, action, seen_version: c.version || 0, comment });
    ctx.syncer.afterEdit();
    toast(message("review_saved"));
    ctx.refresh();
  };
  const waiting = !!c.pending_action;
  const buttons = [];
  if (c.status === "submitted") {
    buttons.push(h("button", { type: "button", class: "btn", id: "return-btn", disabled: waiting || null, onclick: () => decide("return") }, message("review_return")));
    buttons.push(h("button", { type: "button", class: "btn primary", id: "approve-btn", disabled: waiting || conflicts.length > 0 || null, onclick: () => decide("approve") }, message("review_approve")));
  }
  if (["approved", "returned", "submitted"].includes(c.status)) {
    buttons.push(h("button", { type: "button", class: "btn", id: "reopen-btn", disabled: waiting || null, onclick: () => decide("reopen") }, message("review_reopen")));
  }
  return h("section", { class: "card decide-card", "aria-labelledby": "h-decide" },
    h("h2", { id: "h-decide", text: message("review_decide") }),
    c.status === "draft" ? h("p", { class: "muted", text: message("review_not_submitted") }) : null,
    conflicts.length && c.status === "submitted" ? h("p", { class: "notice warn", text: message("review_cannot_approve_conflicts") }) : null,
    buttons.length ? h("div", { class: "field" }, h("label", { for: "decision-reason", text: message("review_reason") }), reason) : null,
    buttons.length ? h("p", { class: "muted", text: message("review_approve_note", { version: c.version || 0 }) }) : null,
    h("div", { class: "row decide-buttons" }, buttons));
}
