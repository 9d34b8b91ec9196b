"""Serving the PWA (pwa/): app shell, manifest, service worker at the root. Owned by the PWA work."""
routes: list = []
