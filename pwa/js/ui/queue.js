// The reviewer's home: the queue of checklists of the units below, from the synced data (works offline),
// oldest deadline first, with filters (unit, template, period, status), counts per status and what waits
// per unit. The filters are kept on the phone.
import { message, periodLabel } from "../catalogue.js";
import { queueCounts, reviewQueue, statusText } from "../review.js";
import { h, fmtDateTime, fmtIsoDate } from "./common.js";

const FILTERS = ["unit", "template", "period", "status"];

export async function queueSection(ctx) {
  const { store, user } = ctx;
  const all = await reviewQueue(store, user);
  const chosen = { status: "submitted", ...((await store.kvGet("queue_filters")) || {}) };
  const value = {
    // a template is chosen by its code: the checklists of every version of it
    unit: (e) => String(e.c.unit_id), template: (e) => e.c.template_code || (e.t ? e.t.code : String(e.c.template_id)),
    period: (e) => e.c.period, status: (e) => e.status,
  };

  const options = {
    unit: unique(all, (e) => [String(e.c.unit_id), e.unit]),
    template: unique(all, (e) => [value.template(e), e.t ? e.t.title : e.c.template_code]),
    period: unique(all, (e) => [e.c.period, periodLabel(e.c.period)]),
    // every status, present or not: submitted is the default even on a phone with none of them yet
    status: ["submitted", "returned", "approved", "draft", "reopened"]
      .map((v) => [v, statusText({ status: v === "reopened" ? "draft" : v, reopened: v === "reopened" })]),
  };
  for (const f of FILTERS) if (chosen[f] && !options[f].some(([v]) => v === chosen[f])) chosen[f] = ""; // gone since
  const keep = (e, except) => FILTERS.every((f) => f === except || !chosen[f] || value[f](e) === chosen[f]);
  const shown = all.filter((e) => keep(e));
  const counts = queueCounts(all.filter((e) => keep(e, "status")));
  const selects = FILTERS.map((f) => {
    const id = "q-" + f;
    const select = h("select", { id, name: f },
      h("option", { value: "" }, message("filter_all")),
      options[f].map(([v, label]) => h("option", { value: v, selected: chosen[f] === v || null }, label)));
    select.addEventListener("change", async () => {
      await store.kvSet("queue_filters", { ...chosen, [f]: select.value });
      ctx.refresh();
    });
    return h("div", { class: "field filter" }, h("label", { for: id, text: filterLabel(f) }), select);
  });

  const list = h("ul", { class: "checklists queue", id: "review-queue" }, shown.map((e) => {
    const title = e.t ? e.t.title : e.c.template_code;
    return h("li", { dataset: { checklistId: e.c.id } },
      h("a", { class: "cl-link", href: "#/c/" + e.c.id },
        h("span", { class: "cl-title", text: e.unit }),
        h("span", { class: "cl-sub", text: title + " · " + periodLabel(e.c.period) }),
        h("span", { class: "cl-meta" },
          h("span", { class: "badge " + e.status, text: statusText(e.c) }),
          " ", e.deadline ? message("deadline_on", { date: fmtIsoDate(e.deadline) }) : message("deadline_none"),
          e.c.status_ms ? " · " + fmtDateTime(e.c.status_ms) : "",
          e.conflicts ? h("span", { class: "badge conflict", text: ` ${e.conflicts} xung đột` }) : null)));
  }));

  const s = counts.byStatus;
  return h("section", { class: "card queue-card", "aria-labelledby": "h-queue" },
    h("h2", { id: "h-queue", text: message("queue_title") }),
    h("p", { class: "muted", text: message("queue_intro") }),
    h("p", { id: "queue-counts", text: message("queue_counts", {
      submitted: s.submitted, returned: s.returned, approved: s.approved, draft: s.draft + s.reopened,
    }) }),
    counts.waiting.length ? h("details", { class: "waiting-units" },
      h("summary", { text: message("queue_units_waiting") + ` (${counts.waiting.length})` }),
      h("ul", { class: "plain" }, counts.waiting.map(([unit, n]) => h("li", { text: `${unit}: ${n}` })))) : null,
    h("div", { class: "filters" }, selects),
    h("p", { class: "muted", id: "queue-shown", text: message("queue_shown", { shown: shown.length, total: all.length }) }),
    shown.length ? list : h("p", { class: "muted", text: message("queue_empty") }));
}

function filterLabel(f) {
  return { unit: message("filter_unit"), template: message("filter_template"),
    period: message("filter_period"), status: message("filter_status") }[f];
}

function unique(entries, pick) {
  const seen = new Map();
  for (const e of entries) {
    const [v, label] = pick(e);
    if (!seen.has(v)) seen.set(v, label);
  }
  return [...seen.entries()].sort((a, b) => String(a[1]).localeCompare(String(b[1]), "vi"));
}
