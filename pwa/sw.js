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
