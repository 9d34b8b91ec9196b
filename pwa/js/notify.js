// Notifications: asked for at a sensible moment, never on first load. The card is offered on the home
// screen only after the phone's first successful sync (the person has seen the app work), only while the
// browser has not been asked yet, and putting it off hides it for a week. Subscribing sends the subscription to
// the server (POST /api/push/subscriptions), which reminds this phone from then on.
import { api } from "./sync.js";
import { message } from "./catalogue.js";
import { h, toast } from "./ui/common.js";

const WEEK = 7 * 86400000;
const SUBSCRIBE_TIMEOUT = 10000; // PushManager.subscribe never settles without a push service

export function pushSupported() {
  return "Notification" in window && "serviceWorker" in navigator && "PushManager" in window;
}

/** Whether to offer notifications now: supported, not yet asked, synced once, not put off this week. */
// Put off in this page, known at once: a screen built before the choice was saved must not show it again.
let putOffInPage = false;
export const offerPutOff = () => putOffInPage;

export async function shouldOffer(store, now = Date.now()) {
  if (putOffInPage || !pushSupported() || Notification.permission !== "default") return false;
  if (!(await store.kvGet("last_sync_ms"))) return false;
  const later = await store.kvGet("notify_later_ms");
  return !later || now - later > WEEK;
}

function base64UrlToBytes(text) {
  const pad = "=".repeat((4 - (text.length % 4)) % 4);
  const raw = atob((text + pad).replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function withTimeout(promise, ms) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms))]);
}

/** Ask the browser, then subscribe and tell the server. Resolves to "on", "denied" or "failed". */
export async function enableNotifications() {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") return "denied";
  try {
    const { public_key: key } = await api("GET", "/api/push/key", undefined, {}, { now: true });
    const reg = await navigator.serviceWorker.ready;
    const sub = (await reg.pushManager.getSubscription())
      || (await withTimeout(reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(key) }), SUBSCRIBE_TIMEOUT));
    await api("POST", "/api/push/subscriptions", sub.toJSON(), {}, { now: true });
    return "on";
  } catch (err) {
    console.warn("push subscribe", err);
    return "failed";
  }
}

/** The card offering notifications, placed at the top of `main` when `shouldOffer`. */
export async function offerNotifications(main, ctx) {
  if (!(await shouldOffer(ctx.store)) || main.querySelector("#notify-offer")) return;
  const card = h("section", { class: "card", id: "notify-offer", "aria-labelledby": "notify-offer-title" },
    h("h2", { id: "notify-offer-title", text: message("notify_offer_title") }),
    h("p", { text: message("notify_offer_text") }),
    h("div", { class: "actions" },
      h("button", {
        type: "button", class: "btn primary", id: "notify-enable",
        onclick: async () => {
          const result = await enableNotifications();
          card.remove();
          toast(message(result === "on" ? "notify_on" : result === "denied" ? "notify_denied" : "notify_failed"));
        },
      }, message("notify_offer_button")),
      h("button", {
        type: "button", class: "btn", id: "notify-later",
        onclick: async () => { putOffInPage = true; card.remove(); await ctx.store.kvSet("notify_later_ms", Date.now()); },
      }, message("notify_offer_later"))));
  main.prepend(card);
}

/** On logout: this phone stops getting the account's reminders (a shared phone must not show the last
 * person's deadlines to the next one). Best effort: offline, the server deletes it on the next 404/410. */
export async function forgetPushSubscription() {
  if (!pushSupported()) return;
  try {
    const reg = await withTimeout(navigator.serviceWorker.ready, 3000);
    const sub = await reg.pushManager.getSubscription();
    if (!sub) return;
    try { await api("DELETE", "/api/push/subscriptions", { endpoint: sub.endpoint }, {}, { now: true }); } catch { /* offline */ }
    await sub.unsubscribe();
  } catch (err) {
    console.warn("push unsubscribe", err);
  }
}
