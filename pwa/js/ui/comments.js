// Comments on an item or on the whole checklist: the list (who, role, when; waiting or refused ones said
// so) and the form that records a `comment` edit in the outbox, like an answer: offline, exactly once.
import { message, reasonText, roleLabel } from "../catalogue.js";
import { newId } from "../review.js";
import { h, fmtDateTime, toast } from "./common.js";

export function commentList(comments) {
  if (!comments.length) return null;
  return h("ul", { class: "comments" }, comments.map((m) => h("li", {
    class: "comment" + (m.pending ? " pending" : "") + (m.rejected_reason ? " refused" : ""),
    dataset: { commentId: m.id },
  },
  h("p", { class: "comment-text", text: m.text }),
  h("p", { class: "muted comment-by" }, message("comment_by", {
    who: m.author_name || m.author, role: roleLabel(m.author_role), when: fmtDateTime(m.created_ms),
  }), m.pending ? h("span", { class: "badge", text: " " + message("comment_waiting") }) : null),
  m.rejected_reason ? h("p", { class: "notice error", role: "note",
    text: message("comment_refused", { reason: m.rejected_message || reasonText(m.rejected_reason) }) }) : null)));
}

/** A form that records a comment on `itemKey` ("" = the whole checklist) of checklist `c`; `label` names
 * what it is about (read by screen readers), the summary says what to do. */
export function commentForm(ctx, c, itemKey, label, { open = false, summary = message("comment_write") } = {}) {
  const id = "cm-" + (itemKey || "all");
  const text = h("textarea", { id, rows: "2", maxlength: "4000", class: "comment-input" });
  const button = h("button", { type: "submit", class: "btn small" }, message("comment_add"));
  const form = h("form", { class: "comment-form" },
    h("label", { for: id, class: "sr-only", text: label }), text, button);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = text.value.trim();
    if (!body) { toast(message("comment_empty")); text.focus(); return; }
    button.disabled = true; // one press, one edit
    await ctx.store.recordEdit({
      kind: "comment", checklist_id: c.id, comment_id: newId(), item_key: itemKey, text: body,
      author_name: ctx.user.full_name || ctx.user.username, author_role: ctx.user.role, checklist_version: c.version || 0,
    });
    text.value = "";
    (ctx.openComments || new Set()).delete(id);
    ctx.syncer.afterEdit();
    toast(message("comment_saved"));
    ctx.refresh();
  });
  // A re-render (sync news) keeps an opened box open.
  const opened = ctx.openComments || (ctx.openComments = new Set());
  const box = h("details", { class: "comment-box", open: open || opened.has(id) || null },
    h("summary", { text: summary }), form);
  box.addEventListener("toggle", () => { if (box.open) opened.add(id); else opened.delete(id); });
  return box;
}
