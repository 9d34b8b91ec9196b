"""The PWA is served publicly: shell, manifest, icons, and a versioned service worker at the root."""
from __future__ import annotations

import json
import re
import struct

from server import pwa_routes


async def test_shell_and_assets_are_public(anon):
    r = await anon.get("/app/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'lang="vi"' in r.text and "/app/js/app.js" in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "style=" not in r.text and "<script>" not in r.text  # nothing inline (strict CSP)
    r = await anon.get("/app/js/app.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert r.headers["cache-control"] == "no-cache"
    assert (await anon.get("/app")).status_code == 308
    for bad in ("/app/../server/app.py", "/app/%2e%2e/pyproject.toml", "/app/icons/make_icons.py", "/app/sw.js",
                "/app/nope.js"):
        assert (await anon.get(bad)).status_code == 404, bad


async def test_manifest_is_installable(anon):
    r = await anon.get("/manifest.webmanifest")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/manifest+json")
    m = json.loads(r.text)
    assert m["lang"] == "vi" and m["display"] == "standalone" and m["start_url"] == "/app/"
    assert "e-ISO" in m["name"] and m["theme_color"]
    sizes = {(i["sizes"], i["purpose"]) for i in m["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")} <= sizes
    for icon in m["icons"]:
        r = await anon.get(icon["src"])
        assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"
        w, h = struct.unpack(">II", r.content[16:24])
        assert f"{w}x{h}" == icon["sizes"]


async def test_service_worker_is_versioned_at_root(anon):
    r = await anon.get("/sw.js")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
    assert "javascript" in r.headers["content-type"]
    version, urls = pwa_routes.shell()
    assert f'const VERSION = "{version}"' in r.text
    listed = json.loads(re.search(r"const ASSETS = (\[.*?\]);", r.text).group(1))
    assert listed == urls and "/app/" in urls and "/app/js/app.js" in urls and "/manifest.webmanifest" in urls
    for url in urls:
        assert (await anon.get(url)).status_code == 200, url
    # No test vendor file (axe) is ever served or precached.
    assert not any("axe" in u for u in urls)
    assert (await anon.get("/app/vendor/axe.min.js")).status_code == 404


async def test_first_load_is_small(anon):
    """Everything the shell precaches, gzip-compressed as served, stays far below the 150 KB budget."""
    _, urls = pwa_routes.shell()
    total = 0
    for url in urls:
        r = await anon.get(url, headers={"Accept-Encoding": "gzip"})
        total += int(r.headers.get("content-length") or len(r.content))
    assert total < 100_000, total


def test_version_suffix_changes_the_version(monkeypatch):
    """EISO_APP_VERSION_SUFFIX (read once, like the digest) gives a new version: a new service worker."""
    base, urls = pwa_routes.shell()
    try:
        monkeypatch.setenv("EISO_APP_VERSION_SUFFIX", "r2\";alert(1)//")
        pwa_routes.shell.cache_clear()
        version, same_urls = pwa_routes.shell()
        assert version == base.split("-")[0] + "-r2alert1" and same_urls == urls  # only [A-Za-z0-9._-] kept
        monkeypatch.setenv("EISO_APP_VERSION_SUFFIX", "")
        pwa_routes.shell.cache_clear()
        assert pwa_routes.shell()[0] == base.split("-")[0]
    finally:
        pwa_routes.shell.cache_clear()
