// App start: the server's words, service worker, who is logged in on this phone, routing between screens,
// status chip, and what to do when another tab needs a newer local database.
import { loadCatalogue } from "./catalogue.js";
import { metaGet, metaSet, openUserDb, deleteUserDb, onVersionChange } from "./db.js";
import { Syncer, api, AuthNeeded } from "./sync.js";
import { h, clear, fmtDateTime, toast, confirmDialog } from "./ui/common.js";
import { renderLogin } from "./ui/login.js";
import { renderHome } from "./ui/home.js";
import { renderChecklist } from "./ui/checklist.js";
import { renderOutbox } from "./ui/outbox.js";
import { renderInbox } from "./ui/inbox.js";
import { forgetPushSubscription, offerNotifications, offerPutOff } from "./notify.js";
import { flushFieldsOnScreen, recordDrafts } from "./drafts.js";
import { chipText, readSyncState, tickRetryTimes } from "./syncstate.js";
import { message } from "./catalogue.js";

const main = document.getElementById("main");
const banners = document.getElementById("banners");
const chip = document.getElementById("sync-chip");

export const ctx = {
  user: null,
  store: null,
  syncer: null,
  persisted: null,
  go(hash) { if (location.hash === hash) route(); else location.hash = hash; },
  refresh: () => route({ keepScroll: true }),
  login: startSession,
  logout,
};
window.__eiso = ctx; // for tests and debugging

async function boot() {
  registerServiceWorker();
  await loadCatalogue();
  onVersionChange({ blocking: newerVersionElsewhere, blocked: olderVersionElsewhere });
  const user = await metaGet("user");
  if (user) await startSession(user, { fromLogin: false });
  window.addEventListener("hashchange", () => route());
  window.addEventListener("online", updateChip);
  window.addEventListener("offline", updateChip);
  chip.addEventListener("click", () => ctx.go("#/outbox"));
  // Retry times are shown as time left ("Sẽ thử lại sau 30 giây."): keep them true as seconds pass.
  setInterval(() => tickRetryTimes(), 1000);
  await route();
  const pendingLogout = await metaGet("logout_pending");
  if (pendingLogout && navigator.onLine) {
    try { await api("DELETE", "/api/session"); await metaSet("logout_pending", null); } catch { /* later */ }
  }
}

async function startSession(user, { fromLogin = true } = {}) {
  if (ctx.syncer) ctx.syncer.stop();
  if (ctx.store && ctx.store.username !== user.username) ctx.store.close();
  ctx.user = user;
  await metaSet("user", user);
  if (!ctx.store || ctx.store.username !== user.username) ctx.store = await openUserDb(user.username);
  document.getElementById("blocked-banner")?.remove();
  await ctx.store.kvSet("user", user);
  if (fromLogin) await ctx.store.kvSet("auth_needed", false);
  await recordDrafts(ctx.store); // text typed when the app was closed: one edit each, before sending
  ctx.syncer = new Syncer(ctx.store);
  let pending = null;
  const rerender = () => {
    // Re-render at most every 300 ms, and never while the user types in a field.
    clearTimeout(pending);
    pending = setTimeout(() => {
      updateChip();
      if (typingInMain()) { rerender(); return; } // try again once the user leaves the field
      if (document.querySelector("dialog[open]")) return;
      ctx.refresh();
    }, 300);
  };
  ctx.syncer.addEventListener("changed", rerender);
  ctx.syncer.addEventListener("status", updateChip);
  ctx.syncer.addEventListener("upload", () => { updateChip(); ctx.onUpload && ctx.onUpload(); });
  ctx.syncer.addEventListener("auth", () => { showAuthBanner(); updateChip(); });
  ctx.syncer.start();
  askPersistence();
  if (await ctx.store.kvGet("auth_needed")) showAuthBanner();
}

async function askPersistence() {
  if (!navigator.storage || !navigator.storage.persist) { ctx.persisted = false; return; }
  try {
    ctx.persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  } catch { ctx.persisted = false; }
  await ctx.store.kvSet("persisted", ctx.persisted);
}

async function logout() {
  const waiting = (await ctx.store.outboxCount()) + (await ctx.store.pendingUploads()).length;
  if (waiting > 0) {
    const choice = await confirmDialog({
      title: "Còn thay đổi chưa gửi",
      body: [
        `Còn ${waiting} thay đổi hoặc tệp chưa gửi lên máy chủ.`,
        "Nếu đăng xuất bây giờ, chúng vẫn được giữ an toàn trên máy này (không bị xoá) và sẽ tự gửi khi bạn đăng nhập lại trên máy này.",
      ],
      buttons: [
        { label: "Ở lại và gửi", value: "stay", primary: true },
        { label: "Vẫn đăng xuất, giữ thay đổi", value: "logout" },
      ],
    });
    if (choice !== "logout") { ctx.syncer.syncNow("logout-stay"); return; }
  }
  ctx.syncer.stop();
  const username = ctx.user.username;
  await forgetPushSubscription(); // the next person on a shared phone gets none of these reminders
  try { await api("DELETE", "/api/session", undefined, {}, { now: true }); } catch (err) { await metaSet("logout_pending", true); }
  await metaSet("user", null);
  ctx.store.close();
  // Nothing waits: the local copy of this user's data leaves the shared phone.
  if (waiting === 0) await deleteUserDb(username);
  ctx.store = null;
  ctx.user = null;
  ctx.syncer = null;
  clear(banners);
  chip.hidden = true;
  ctx.go("#/login");
}

// ---- another tab with a newer or older local database ----------------------------------------------
/** Another tab opened a newer schema: this tab's connection is closed; reload under the new code, at
 * once when no edit is being written or typed, else after the user's click. */
function newerVersionElsewhere() {
  if (ctx.syncer) ctx.syncer.stop();
  if (ctx.store && ctx.store.writing === 0 && !typingInMain()) { location.reload(); return; }
  if (document.getElementById("reload-banner")) return;
  banners.append(h("div", { class: "banner info", id: "reload-banner", role: "alert" },
    h("p", { text: "Ứng dụng đã được cập nhật ở một thẻ khác. Tải lại trang để tiếp tục; các thay đổi đã lưu vẫn được giữ." }),
    h("button", { type: "button", class: "btn primary", onclick: () => location.reload() }, "Tải lại")));
}

/** This tab needs a newer schema, but an older tab keeps the database open. */
function olderVersionElsewhere() {
  if (document.getElementById("blocked-banner")) return;
  banners.append(h("div", { class: "banner warn", id: "blocked-banner", role: "alert" },
    h("p", { text: "Ứng dụng đang mở ở một thẻ khác bằng phiên bản cũ. Hãy đóng thẻ đó để tiếp tục." })));
}

let refreshWaiting = false;
function refreshOnFocusOut() {
  if (refreshWaiting) return;
  refreshWaiting = true;
  main.addEventListener("focusout", () => { refreshWaiting = false; ctx.refresh(); }, { once: true });
}

function typingInMain() {
  const active = document.activeElement;
  return !!active && main.contains(active) && (active.tagName === "TEXTAREA"
    || (active.tagName === "INPUT" && !["radio", "checkbox", "file", "button", "submit"].includes(active.type)));
}

function showAuthBanner() {
  if (document.getElementById("auth-banner")) return;
  banners.append(h("div", { class: "banner warn", id: "auth-banner", role: "alert" },
    h("p", { text: "Phiên đăng nhập đã hết hạn. Các thay đổi vẫn nằm an toàn trên máy; đăng nhập lại để gửi." }),
    h("button", { type: "button", class: "btn", onclick: () => ctx.go("#/login") }, "Đăng nhập lại")));
}
export function hideAuthBanner() {
  const b = document.getElementById("auth-banner");
  if (b) b.remove();
}

/** The badge reads the same state as the home screen and the outbox (syncstate.js). */
async function updateChip() {
  if (!ctx.store) { chip.hidden = true; return; }
  chip.hidden = false;
  const state = await readSyncState(ctx.store, ctx.syncer);
  const text = chipText(state);
  chip.className = "chip " + state.state;
  chip.dataset.state = state.state;
  chip.textContent = text;
  chip.setAttribute("aria-label", message("chip_label", { state: text }));
}
ctx.updateChip = updateChip;

let renderedHash = null; // the screen on show, so a refresh keeps its place only on that same screen
let renders = 0;
async function route({ keepScroll = false } = {}) {
  const hash = location.hash || "#/";
  const render = ++renders;
  const sameScreen = keepScroll && hash === renderedHash;
  const scroll = window.scrollY;
  await flushFieldsOnScreen(); // a field left by switching screens is recorded once, as on leaving it
  if (!ctx.user || hash === "#/login") {
    await renderLogin(main, ctx);
    updateChip();
    renderedHash = "#/login";
    window.scrollTo(0, 0);
    return;
  }
  let m;
  // A screen is built aside and shown only if it is still the one asked for: a slow screen (home waits
  // for deadlines and the notification offer) must not replace one opened after it.
  const screen = document.createElement("div");
  try {
    if ((m = /^#\/c\/([\w-]+)/.exec(hash))) await renderChecklist(screen, ctx, m[1]);
    else if (hash.startsWith("#/outbox")) await renderOutbox(screen, ctx);
    else if (hash.startsWith("#/inbox")) await renderInbox(screen, ctx);
    else {
      await renderHome(screen, ctx);
      await offerNotifications(screen, ctx); // after the first sync only, never on first load
    }
  } catch (err) {
    if (err instanceof AuthNeeded) { showAuthBanner(); return; }
    console.error(err);
    clear(screen);
    screen.append(h("p", { class: "notice error", role: "alert", text: "Có lỗi khi hiển thị: " + (err.message || err) }));
  }
  if (render !== renders) return; // another screen was asked for meanwhile: it shows itself
  // A refresh built while the user started typing on this screen would replace the field in use (and close
  // the phone's keyboard): it waits until they leave the field.
  if (sameScreen && typingInMain()) { refreshOnFocusOut(); return; }
  if (offerPutOff()) screen.querySelector("#notify-offer")?.remove(); // put off while this screen was built
  main.replaceChildren(...screen.childNodes);
  updateChip();
  // A screen opens at its top (the outbox used to open mid-list, hiding its status, when coming from a
  // scrolled checklist); a refresh of the same screen keeps the place.
  renderedHash = hash;
  window.scrollTo(0, sameScreen ? scroll : 0);
}

// ---- service worker and updates ------------------------------------------------------------------
function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then((reg) => {
    const offer = (worker) => {
      if (!worker) return;
      const show = () => { if (worker.state === "installed" && navigator.serviceWorker.controller) showUpdateBanner(worker); };
      worker.addEventListener("statechange", show);
      show();
    };
    offer(reg.waiting);
    reg.addEventListener("updatefound", () => offer(reg.installing));
    const check = () => reg.update().catch(() => {});
    // A new version is looked for when the app becomes visible and when the network comes back.
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") check(); });
    window.addEventListener("online", check);
  }).catch((err) => console.warn("service worker", err));
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloading || !ctx.updateRequested) return;
    reloading = true;
    location.reload();
  });
}

function showUpdateBanner(worker) {
  if (document.getElementById("update-banner")) return;
  banners.append(h("div", { class: "banner info", id: "update-banner", role: "status" },
    h("p", { text: "Có phiên bản mới. Các thay đổi chưa gửi vẫn được giữ nguyên." }),
    h("button", {
      type: "button", class: "btn primary",
      onclick: () => { ctx.updateRequested = true; worker.postMessage({ type: "skip-waiting" }); },
    }, "Có phiên bản mới, tải lại")));
}

ctx.hideAuthBanner = hideAuthBanner;
ctx.fmtDateTime = fmtDateTime;
ctx.toast = toast;
boot();
