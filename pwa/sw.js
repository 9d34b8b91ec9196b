/* Service worker of e-ISO Xã. Served at /sw.js by the server, which fills in the version and the list
   of shell files (a digest of their bytes), so any change of the shell installs a new worker.
   It caches only the app shell. Data (checklists, the outbox of unsent edits, photos) lives in
   IndexedDB, which an update never touches: a new version can never lose what is waiting. */
const VERSION = "__VERSION__";
const ASSETS = "__ASSETS__";
const CACHE = "eiso-shell-" + VERSION;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // cache: "reload" bypasses the HTTP cache so the precache matches this version's bytes.
    await cache.addAll(ASSETS.map((url) => new Request(url, { cache: "reload" })));
    // The first worker takes over at once; a later one waits until the page asks (update banner).
    if (!self.registration.active) await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("eiso-shell-") && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
  if (event.data && event.data.type === "version" && event.ports[0]) event.ports[0].postMessage(VERSION);
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/")) return; // data: the page handles offline itself
  if (req.mode === "navigate" && (url.pathname === "/app" || url.pathname.startsWith("/app/"))) {
    event.respondWith(shellFirst("/app/", req));
    return;
  }
  if (url.pathname.startsWith("/app/") || url.pathname === "/manifest.webmanifest") {
    event.respondWith(shellFirst(url.pathname, req));
  }
});

async function shellFirst(key, req) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  if (hit) return hit;
  try {
    return await fetch(req);
  } catch (err) {
    const shell = await cache.match("/app/");
    if (shell && req.mode === "navigate") return shell;
    return new Response("Không có mạng", { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
  }
}

// ---- reminders: Web Push ---------------------------------------------------------------------------
// The server sends {title, body, url, tag}; a newer reminder of the same deadline and period replaces the
// older one on screen (same tag). A click opens the app at the reminder's checklist, in a window already
// open when there is one. Kept as plain functions so a test can call them (a headless click is not trusted).
self.notificationTarget = function notificationTarget(data) {
  const url = new URL((data && data.url) || "/app/#/", self.location.origin);
  // Only our own app: a link to another site in a push message is never followed.
  if (url.origin !== self.location.origin || !url.pathname.startsWith("/app/")) return self.location.origin + "/app/#/";
  return url.href;
};

self.notificationOptions = function notificationOptions(data) {
  return {
    body: data.body || "",
    tag: data.tag || "eiso",
    renotify: false,
    icon: "/app/icons/icon-192.png",
    badge: "/app/icons/icon-192.png",
    lang: "vi",
    data: { url: self.notificationTarget(data) },
  };
};

self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch { data = { body: event.data ? event.data.text() : "" }; }
  event.waitUntil(self.registration.showNotification(data.title || "e-ISO Xã", self.notificationOptions(data)));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = (event.notification.data && event.notification.data.url) || self.notificationTarget({});
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const w of windows) {
      if (new URL(w.url).pathname.startsWith("/app/")) {
        await w.focus();
        return w.navigate ? w.navigate(target) : undefined;
      }
    }
    return self.clients.openWindow(target);
  })());
});
