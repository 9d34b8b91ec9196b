"""Settings read from the environment (documented in README.md)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def _default_db_url() -> str:
    return "sqlite://" + str(Path("data") / "eiso.sqlite3")


def normalise_db_url(url: str) -> str:
    """Accept the usual spellings and add the SQLite pragmas we rely on.

    `postgresql://` (what most tools print) becomes Tortoise's `postgres://`; SQLite gets WAL, a busy
    timeout and synchronous=NORMAL, which is durable in WAL mode and much faster than FULL.
    """
    if url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://"):]
    if url.startswith("sqlite://") and ":memory:" not in url:
        path = url[len("sqlite://"):].split("?", 1)[0]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if "?" not in url:
            url += "?journal_mode=WAL&busy_timeout=10000&synchronous=NORMAL&foreign_keys=ON"
    return url


@dataclass
class Settings:
    database_url: str = field(default_factory=_default_db_url)
    secret: str = ""
    demo_password: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    session_days: int = 30
    # Cookies marked Secure only work over https; local http (and tests) need it off.
    secure_cookies: bool = False
    evidence_dir: Path = Path("data") / "evidence"
    login_max_failures: int = 5
    login_window_seconds: int = 900
    # Appended to the PWA's version: forces a new service worker without changing a file (docs/pwa.md).
    app_version_suffix: str = ""
    # Password for `eiso createuser` when it runs without a terminal (scripts, provisioning).
    new_password: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        s = cls()
        s.database_url = env.get("DATABASE_URL") or _default_db_url()
        s.secret = env.get("EISO_SECRET") or ""
        s.demo_password = env.get("EISO_DEMO_PASSWORD") or None
        s.host = env.get("EISO_HOST", s.host)
        s.port = int(env.get("EISO_PORT", s.port))
        s.session_days = int(env.get("EISO_SESSION_DAYS", s.session_days))
        s.secure_cookies = env.get("EISO_SECURE_COOKIES", "0") in ("1", "true", "yes")
        s.evidence_dir = Path(env.get("EISO_EVIDENCE_DIR", str(s.evidence_dir)))
        s.login_max_failures = int(env.get("EISO_LOGIN_MAX_FAILURES", s.login_max_failures))
        s.app_version_suffix = env.get("EISO_APP_VERSION_SUFFIX", "")
        s.new_password = env.get("EISO_NEW_PASSWORD") or None
        if not s.secret:
            # Sessions live in the database, so the secret only keys CSRF-free helpers; a random one
            # per process start is safe but documented as worth setting.
            s.secret = secrets.token_urlsafe(32)
        s.database_url = normalise_db_url(s.database_url)
        return s
