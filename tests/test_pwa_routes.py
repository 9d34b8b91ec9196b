"""The PWA is served publicly: shell, manifest, icons, and a versioned service worker at the root."""

from __future__ import annotations

import json
import re
import struct

from server import catalogue
from server.config import Settings
from server.pages import pwa


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
    for bad in (
        "/app/../server/app.py",
        "/app/%2e%2e/pyproject.toml",
        "/app/icons/make_icons.py",
        "/app/sw.js",
        "/app/nope.js",
    ):
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
    version, urls = pwa.shell()
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
    _, urls = pwa.shell()
    total = 0
    for url in urls:
        r = await anon.get(url, headers={"Accept-Encoding": "gzip"})
        total += int(r.headers.get("content-length") or len(r.content))
    assert total < 100_000, total


async def test_catalogue_is_public_precached_and_versioned(anon):
    """The phone's words: /app/catalogue.json is for_client(), in the precache and in the version digest."""
    r = await anon.get("/app/catalogue.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.headers["cache-control"] == "no-cache"
    assert json.loads(r.text) == catalogue.for_client()
    version, urls = pwa.shell()
    assert "/app/catalogue.json" in urls
    sw = (await anon.get("/sw.js")).text
    assert "/app/catalogue.json" in json.loads(re.search(r"const ASSETS = (\[.*?\]);", sw).group(1))


def test_a_changed_word_changes_the_version(monkeypatch):
    """A new word installs a new service worker, like a changed file."""
    before = pwa.shell()[0]
    try:
        monkeypatch.setitem(catalogue.CHOICE_LABELS, "na", "Không áp dụng (thử)")
        pwa.shell.cache_clear()
        pwa.catalogue_bytes.cache_clear()
        assert pwa.shell()[0] != before
    finally:
        monkeypatch.undo()
        pwa.shell.cache_clear()
        pwa.catalogue_bytes.cache_clear()
    assert pwa.shell()[0] == before


def test_version_suffix_changes_the_version():
    """Settings.app_version_suffix (EISO_APP_VERSION_SUFFIX) gives a new version: a new service worker."""
    base, urls = pwa.shell()
    version, same_urls = pwa.shell('r2";alert(1)//')
    assert version == base + "-r2alert1" and same_urls == urls  # only [A-Za-z0-9._-] kept
    assert pwa.shell("")[0] == base


async def test_served_version_takes_the_suffix_from_settings(app, anon, monkeypatch):
    settings = Settings.from_env({"EISO_APP_VERSION_SUFFIX": "r3"})
    assert settings.app_version_suffix == "r3"
    monkeypatch.setattr(app.state, "settings", settings)
    assert (await anon.get("/app/version.json")).json()["version"] == pwa.shell()[0] + "-r3"
    assert '-r3"' in (await anon.get("/sw.js")).text
