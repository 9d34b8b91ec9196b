// The home screen's deadlines: a timeline to look at (where each due date lies from a month back to two
// months ahead, numbered like the list) and a list to read. Overdue is red AND says "Quá hạn N ngày" with
// a mark, never colour alone; dates read dd/mm/yyyy.
import { dueStatusLabel } from "../catalogue.js";
import { h, fmtIsoDate } from "./common.js";

const SVG = "http://www.w3.org/2000/svg";
const BACK = 30; // days before today the timeline shows; older overdue items sit at its left edge
const AHEAD = 60;
const MAX_ITEMS = 6;
const MARK = { overdue: "⚠ ", due: "⏰ ", done: "✓ ", upcoming: "" };

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

/** The timeline: today in the middle-left, each item a numbered marker (a square when overdue). */
function timeline(items) {
  const W = 320, left = 14, right = W - 14, y = 30;
  const x = (days) => left + ((Math.max(-BACK, Math.min(AHEAD, days)) + BACK) / (BACK + AHEAD)) * (right - left);
  const counts = {};
  for (const d of items) counts[d.status] = (counts[d.status] || 0) + 1;
  const summary = ["overdue", "due", "upcoming", "done"].filter((k) => counts[k])
    .map((k) => `${counts[k]} ${{ overdue: "quá hạn", due: "sắp đến hạn", upcoming: "còn xa", done: "đã nộp" }[k]}`).join(", ");
  const svg = s("svg", { viewBox: `0 0 ${W} 62`, class: "dl-timeline", role: "img", "aria-label": "Dòng thời gian các hạn nộp: " + summary },
    s("line", { x1: left, y1: y, x2: right, y2: y, class: "dl-axis" }),
    s("line", { x1: x(0), y1: 8, x2: x(0), y2: 44, class: "dl-today" }),
    s("text", { x: x(0), y: 58, "text-anchor": "middle", class: "dl-label" }, "Hôm nay"),
    s("text", { x: left, y: 58, "text-anchor": "start", class: "dl-label" }, "−30 ngày"),
    s("text", { x: right, y: 58, "text-anchor": "end", class: "dl-label" }, "+60 ngày"));
  items.forEach((d, i) => {
    const cx = x(d.days), cy = y; // same-day markers overlap; the numbered list below tells them apart
    const shape = d.status === "overdue"
      ? s("rect", { x: cx - 9, y: cy - 9, width: 18, height: 18, rx: 2, class: "dl-mark " + d.status })
      : s("circle", { cx, cy, r: 9, class: "dl-mark " + d.status });
    svg.append(shape, s("text", { x: cx, y: cy + 4, "text-anchor": "middle", class: "dl-num " + d.status }, String(i + 1)));
  });
  return svg;
}

/** The deadlines card; `view` from deadlinesView (null: never fetched). */
export function deadlinesCard(view) {
  const head = h("h2", { id: "h-dl", text: "Hạn nộp" });
  if (!view) return h("section", { class: "card", "aria-labelledby": "h-dl" }, head,
    h("p", { class: "muted", text: "Cần có mạng để tải các hạn nộp." }));
  if (!view.items.length) return h("section", { class: "card", "aria-labelledby": "h-dl" }, head,
    h("p", { class: "muted", text: "Không có hạn nộp nào đang áp dụng cho đơn vị." }));
  const shown = view.items.slice(0, MAX_ITEMS);
  const list = h("ol", { class: "deadlines" }, shown.map((d, i) => h("li", { class: "dl-" + d.status },
    h("span", { class: "dl-num-badge " + d.status, "aria-hidden": "true", text: String(i + 1) }),
    h("span", { class: "dl-body" },
      h("span", { class: "dl-title", text: d.title }),
      h("span", { class: "dl-date", text: `${d.period_label} · Hạn ${fmtIsoDate(d.due)}` }),
      h("span", { class: "dl-status", text: MARK[d.status] + dueStatusLabel(d.status, d.days) })))));
  const more = view.items.length > shown.length
    ? h("p", { class: "muted", text: `Còn ${view.items.length - shown.length} hạn khác.` }) : null;
  return h("section", { class: "card", "aria-labelledby": "h-dl" }, head, timeline(shown), list, more);
}
