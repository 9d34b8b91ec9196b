"""Serving the PWA (pwa/): app shell, its word catalogue, manifest, service worker at the root.

Everything here is public: the browser fetches the manifest and the service worker without cookies, and
the shell holds no data (data stays behind the session in /api/).

`/app/catalogue.json` is `server.catalogue.for_client()`: every label and message the phone shows, and
the protocol version it speaks. It is part of the shell: precached, and in the version digest.

The service worker's precache is versioned by a digest of every shell file and of the catalogue,
computed once per process: `/sw.js` is `pwa/sw.js` with `__VERSION__` and `__ASSETS__` filled in. A
changed file or word therefore changes the worker's bytes, the browser installs the new worker, and the
page offers a reload. `Settings.app_version_suffix` (EISO_APP_VERSION_SUFFIX) is appended to the version:
a deployment can force a new worker without changing a file (the tests use it to exercise the update path).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import catalogue

PWA = Path(__file__).resolve().parent.parent.parent / "pwa"
CATALOGUE_URL = "/app/catalogue.json"
# Files the shell needs offline. Vendored licences and docs are served but not precached.
PRECACHE_SUFFIXES = {".html", ".js", ".css", ".webmanifest", ".png", ".svg"}
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
NO_CACHE = {"Cache-Control": "no-cache"}


def _shell_files() -> list[Path]:
    return sorted(p for p in PWA.rglob("*") if p.is_file() and p.suffix in PRECACHE_SUFFIXES and p.name != "sw.js")


def _url(p: Path) -> str:
    rel = p.relative_to(PWA).as_posix()
    if rel == "manifest.webmanifest":
        return "/manifest.webmanifest"
    if rel == "index.html":
        return "/app/"
    return "/app/" + rel


@lru_cache(maxsize=1)
def catalogue_bytes() -> bytes:
    """The catalogue as served: the same bytes are hashed into the version."""
    return json.dumps(catalogue.for_client(), ensure_ascii=False, sort_keys=True).encode()


@lru_cache(maxsize=4)
def shell(suffix: str = "") -> tuple[str, list[str]]:
    """(version, urls) of the precached shell; `suffix` is Settings.app_version_suffix."""
    digest = hashlib.sha256()
    files = _shell_files()
    for p in files:
        digest.update(p.relative_to(PWA).as_posix().encode() + b"\0" + p.read_bytes())
    digest.update(CATALOGUE_URL.encode() + b"\0" + catalogue_bytes())
    digest.update((PWA / "sw.js").read_bytes())
    version = digest.hexdigest()[:12]
    # Only what is safe inside the JavaScript string literal and a cache name.
    suffix = "".join(ch for ch in suffix if ch.isascii() and (ch.isalnum() or ch in "._-"))[:32]
    if suffix:
        version += "-" + suffix
    return version, [_url(p) for p in files] + [CATALOGUE_URL]


def _shell_of(request: Request) -> tuple[str, list[str]]:
    return shell(request.app.state.settings.app_version_suffix)


def _file(path: Path) -> Response:
    return FileResponse(path, media_type=TYPES.get(path.suffix, "application/octet-stream"), headers=NO_CACHE)


async def service_worker(request: Request) -> Response:
    version, urls = _shell_of(request)
    source = (PWA / "sw.js").read_text(encoding="utf-8")
    source = source.replace("__VERSION__", version).replace('"__ASSETS__"', json.dumps(urls))
    return Response(
        source,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


async def manifest(request: Request) -> Response:
    return _file(PWA / "manifest.webmanifest")


async def app_shell(request: Request) -> Response:
    return _file(PWA / "index.html")


async def app_redirect(request: Request) -> Response:
    return RedirectResponse("/app/", status_code=308)


async def words(request: Request) -> Response:
    return Response(catalogue_bytes(), media_type="application/json", headers=NO_CACHE)


async def asset(request: Request) -> Response:
    rel = request.path_params["path"]
    target = (PWA / rel).resolve()
    # No escaping pwa/, no dot files, no sw.js under /app/ (it is only served from the root).
    if (
        not target.is_relative_to(PWA)
        or not target.is_file()
        or any(part.startswith(".") for part in Path(rel).parts)
        or target.suffix not in TYPES
        or target.name == "sw.js"
    ):
        return Response(catalogue.PROBLEMS["not_found"][2], status_code=404, media_type="text/plain; charset=utf-8")
    return _file(target)


async def version(request: Request) -> Response:
    v, _ = _shell_of(request)
    return Response(json.dumps({"version": v}), media_type="application/json", headers=NO_CACHE)


routes = [
    Route("/sw.js", service_worker, methods=["GET"]),
    Route("/manifest.webmanifest", manifest, methods=["GET"]),
    Route("/app", app_redirect, methods=["GET"]),
    Route("/app/", app_shell, methods=["GET"]),
    Route("/app/version.json", version, methods=["GET"]),
    Route(CATALOGUE_URL, words, methods=["GET"]),
    Route("/app/{path:path}", asset, methods=["GET"]),
]
