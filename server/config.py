"""Settings: the only reader of environment variables.

Each setting is declared once, as a field of `Settings` made by `setting(variable, default, help)`: the
environment variable that sets it, its default and one line of help. `Settings.from_env()` reads them all;
`declared_settings()` lists them, and tests/test_settings.py checks README.md's configuration table
against that list, so a setting cannot be added without its documentation. Nothing else in `server/`,
`sync/` or `seed/` reads `os.environ`: code that needs a setting is given a `Settings`.

An unset or empty variable means the default. `shown` is how the README writes a default that is not a
plain value ("random per start", "asked").
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "sqlite://data/eiso.sqlite3"


# SQLite pragmas the server relies on. synchronous=FULL: in WAL mode NORMAL may lose the last commits on
# a power cut or an OS crash, and an answered push must survive both (docs/deployment.md, Durability).
SQLITE_PRAGMAS = {"journal_mode": "WAL", "busy_timeout": "10000", "synchronous": "FULL", "foreign_keys": "ON"}


def normalise_db_url(url: str) -> str:
    """Accept the usual spellings and add the SQLite pragmas we rely on.

    `postgresql://` (what most tools print) becomes Tortoise's `postgres://`; a SQLite URL gets each of
    SQLITE_PRAGMAS it does not set itself (one it sets is kept: the start-up check then judges it).
    """
    if url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://") :]
    if url.startswith("sqlite://") and ":memory:" not in url:
        path, _, query = url[len("sqlite://") :].partition("?")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        given = {part.split("=", 1)[0].lower() for part in query.split("&") if part}
        missing = [f"{k}={v}" for k, v in SQLITE_PRAGMAS.items() if k not in given]
        url = "sqlite://" + path + "?" + "&".join([p for p in query.split("&") if p] + missing)
    return url


def _flag(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Declared:
    """One setting as declared: what the docs must say about it."""

    name: str  # the attribute of Settings
    variable: str  # the environment variable
    default: Any
    help: str
    parse: Callable[[str], Any]
    shown: str | None

    @property
    def documented_default(self) -> str:
        """The default as README.md writes it."""
        if self.shown is not None:
            return self.shown
        if isinstance(self.default, bool):
            return "1" if self.default else "0"
        if self.default == "":
            return "empty"
        return str(self.default)


def setting(
    variable: str, default: Any, help: str, *, parse: Callable[[str], Any] = str, shown: str | None = None
) -> Any:
    """A Settings field read from `variable`; see the module docstring."""
    return field(default=default, metadata={"variable": variable, "help": help, "parse": parse, "shown": shown})


@dataclass
class Settings:
    database_url: str = setting(
        "DATABASE_URL", DEFAULT_DATABASE_URL, "SQLite file (WAL) or `postgres://user@host:5432/db`"
    )
    secret: str = setting("EISO_SECRET", "", "server secret; set it in production", shown="random per start")
    demo_password: str | None = setting(
        "EISO_DEMO_PASSWORD", None, "password of the demo accounts made by `eiso seed --demo`", shown="generated"
    )
    host: str = setting("EISO_HOST", "127.0.0.1", "address `eiso serve` listens on")
    port: int = setting("EISO_PORT", 8000, "port `eiso serve` listens on", parse=int)
    session_days: int = setting(
        "EISO_SESSION_DAYS", 30, "session lifetime (officials stay offline for days)", parse=int
    )
    # Cookies marked Secure only work over https; local http (and tests) need it off.
    secure_cookies: bool = setting("EISO_SECURE_COOKIES", False, "set `1` behind HTTPS", parse=_flag)
    evidence_dir: Path = setting(
        "EISO_EVIDENCE_DIR", Path("data") / "evidence", "where uploaded evidence files are stored", parse=Path
    )
    login_max_failures: int = setting(
        "EISO_LOGIN_MAX_FAILURES",
        5,
        "failed logins per account in 15 minutes before throttling (×4 per address)",
        parse=int,
    )
    app_version_suffix: str = setting(
        "EISO_APP_VERSION_SUFFIX", "", "appended to the PWA version: forces a new service worker (docs/pwa.md)"
    )
    new_password: str | None = setting(
        "EISO_NEW_PASSWORD",
        None,
        "password for `eiso createuser` run without a terminal (scripts, provisioning)",
        shown="asked",
    )
    allow_non_durable: bool = setting(
        "EISO_ALLOW_NON_DURABLE",
        False,
        "set `1` to start on a database that can lose answered pushes on power loss (tests, demos)",
        parse=_flag,
    )
    # Reminders (server/reminders/): the scheduler, Web Push with VAPID, email through an SMTP relay.
    remind_interval: int = setting(
        "EISO_REMIND_INTERVAL",
        300,
        "seconds between reminder runs inside the server (`0`: only `eiso remind`)",
        parse=int,
    )
    public_url: str = setting("EISO_PUBLIC_URL", "http://127.0.0.1:8000", "the address links in reminders point to")
    vapid_private_key: str = setting(
        "EISO_VAPID_PRIVATE_KEY", "", "VAPID private key, raw base64url (`eiso vapid` makes one); empty: no push"
    )
    vapid_public_key: str = setting("EISO_VAPID_PUBLIC_KEY", "", "VAPID public key the phones subscribe with")
    vapid_subject: str = setting("EISO_VAPID_SUBJECT", "mailto:iso@example.gov.vn", "VAPID `sub`: who runs this server")
    push_ttl: int = setting(
        "EISO_PUSH_TTL", 86400, "seconds a push service keeps a reminder for an offline phone", parse=int
    )
    push_timeout: int = setting("EISO_PUSH_TIMEOUT", 10, "seconds before a push send is given up", parse=int)
    push_allow_http: bool = setting(
        "EISO_PUSH_ALLOW_HTTP", False, "accept `http://` push endpoints (tests, a local push service)", parse=_flag
    )
    smtp_host: str = setting("EISO_SMTP_HOST", "", "SMTP relay for reminder email; empty: no email")
    smtp_port: int = setting("EISO_SMTP_PORT", 587, "SMTP relay port", parse=int)
    smtp_starttls: bool = setting(
        "EISO_SMTP_STARTTLS", True, "STARTTLS before login (`0` for a local relay)", parse=_flag
    )
    smtp_user: str = setting("EISO_SMTP_USER", "", "SMTP login; empty: no login")
    smtp_password: str = setting("EISO_SMTP_PASSWORD", "", "SMTP password")
    smtp_timeout: int = setting("EISO_SMTP_TIMEOUT", 20, "seconds before an SMTP connection is given up", parse=int)
    mail_from: str = setting("EISO_MAIL_FROM", "iso@example.gov.vn", "sender address of reminder email")
    mail_from_name: str = setting("EISO_MAIL_FROM_NAME", "Hệ thống ISO điện tử", "sender name of reminder email")
    # Operations (server/observability.py, server/health.py, docs/operations.md).
    request_id_header: str = setting(
        "EISO_REQUEST_ID_HEADER", "X-Request-Id", "request id taken from this header (a proxy's), else made"
    )
    metrics_token: str = setting(
        "EISO_METRICS_TOKEN", "", "bearer token `/metrics` asks for; empty: only direct loopback requests"
    )
    metrics_dir: Path | None = setting(
        "EISO_METRICS_DIR",
        None,
        "folder the workers share request counters in (several processes)",
        parse=Path,
        shown="empty",
    )
    # Not from the environment: the window the failed logins above are counted in.
    login_window_seconds: int = 900

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Settings from `env` (default: the process environment), unset and empty variables meaning the
        default; the database URL normalised and a random secret when none is set."""
        env = dict(os.environ if env is None else env)
        values = {d.name: d.parse(env[d.variable]) for d in declared_settings() if env.get(d.variable)}
        s = cls(**values)
        if not s.secret:
            # Sessions live in the database, so the secret only keys CSRF-free helpers; a random one
            # per process start is safe but documented as worth setting.
            s.secret = secrets.token_urlsafe(32)
        s.database_url = normalise_db_url(s.database_url)
        return s


def declared_settings() -> list[Declared]:
    """Every setting read from the environment, in declaration order."""
    return [
        Declared(
            f.name, f.metadata["variable"], f.default, f.metadata["help"], f.metadata["parse"], f.metadata["shown"]
        )
        for f in fields(Settings)
        if "variable" in f.metadata
    ]
