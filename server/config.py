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

import ipaddress
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite://data/eiso.sqlite3"


# SQLite pragmas the server relies on. synchronous=FULL: in WAL mode NORMAL may lose the last commits on
# a power cut or an OS crash, and an answered push must survive both (docs/deployment.md, Durability).
SQLITE_PRAGMAS = {"journal_mode": "WAL", "busy_timeout": "10000", "synchronous": "FULL", "foreign_keys": "ON"}
# Flat as the database grows (issue 18): a 64 MiB page cache and a 1 GiB memory map keep the hot pages of
# the indexes a push reads in memory, instead of SQLite's 2 MiB default cache re-reading them from disk.
SQLITE_PRAGMAS |= {"cache_size": "-65536", "mmap_size": "1073741824"}


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


def parse_networks(text: str) -> tuple:
    """ "127.0.0.1, 10.0.0.0/8" -> (ip_network, ...); a wrong entry stops the start (ValueError)."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def origin_of(url: str) -> str:
    """ "HTTPS://Iso.example.gov.vn:443/app/" -> "https://iso.example.gov.vn" (what browsers send as Origin)."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not scheme or not host:
        raise ValueError(f"not an origin: {url!r}")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_origins(text: str) -> tuple:
    return tuple(origin_of(part) for part in text.split(",") if part.strip())


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
    secure_cookies: bool = setting(
        "EISO_SECURE_COOKIES", False, "set `1` behind HTTPS (always on when the public origin is https)", parse=_flag
    )
    evidence_dir: Path = setting(
        "EISO_EVIDENCE_DIR", Path("data") / "evidence", "where uploaded evidence files are stored", parse=Path
    )
    export_dir: Path = setting(
        "EISO_EXPORT_DIR",
        Path("data") / "exports",
        "where exports are written and kept an hour (every server process of a deployment must see it)",
        parse=Path,
    )
    login_max_failures: int = setting(
        "EISO_LOGIN_MAX_FAILURES",
        5,
        "failed logins per account and address before each further try waits longer (×4 per address alone)",
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
    # Hardening (issue 17): evidence uploads bounded per user and per unit, proxies, the public origins.
    evidence_partial_hours: int = setting(
        "EISO_EVIDENCE_PARTIAL_HOURS",
        168,
        "hours an unfinished evidence upload is kept after its last chunk",
        parse=int,
    )
    evidence_pending_files_user: int = setting(
        "EISO_EVIDENCE_PENDING_FILES_USER", 20, "evidence uploads one account may have in progress", parse=int
    )
    evidence_pending_mb_user: int = setting(
        "EISO_EVIDENCE_PENDING_MB_USER", 100, "MiB of evidence one account may have in progress", parse=int
    )
    evidence_pending_files_unit: int = setting(
        "EISO_EVIDENCE_PENDING_FILES_UNIT", 100, "evidence uploads one unit may have in progress", parse=int
    )
    evidence_pending_mb_unit: int = setting(
        "EISO_EVIDENCE_PENDING_MB_UNIT", 400, "MiB of evidence one unit may have in progress", parse=int
    )
    evidence_stored_files_user: int = setting(
        "EISO_EVIDENCE_STORED_FILES_USER", 5000, "evidence files one account may have stored", parse=int
    )
    evidence_stored_mb_user: int = setting(
        "EISO_EVIDENCE_STORED_MB_USER", 2000, "MiB of evidence one account may have stored", parse=int
    )
    evidence_stored_files_unit: int = setting(
        "EISO_EVIDENCE_STORED_FILES_UNIT", 20000, "evidence files one unit may have stored", parse=int
    )
    evidence_stored_mb_unit: int = setting(
        "EISO_EVIDENCE_STORED_MB_UNIT", 10000, "MiB of evidence one unit may have stored", parse=int
    )
    trusted_proxies: tuple = setting(
        "EISO_TRUSTED_PROXIES",
        (),
        "addresses or networks of reverse proxies whose `X-Forwarded-For`/`Forwarded` are believed, "
        "comma-separated (e.g. `127.0.0.1, 10.0.0.0/8`)",
        parse=lambda text: parse_networks(text),
        shown="empty",
    )
    public_origins: tuple = setting(
        "EISO_PUBLIC_ORIGINS",
        (),
        "origins browsers may send changes from, comma-separated (`https://iso.example.gov.vn`)",
        parse=lambda text: parse_origins(text),
        shown="that of EISO_PUBLIC_URL and of the listening address",
    )
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

    def allowed_origins(self) -> set[str]:
        """Origins a browser may send a change from: EISO_PUBLIC_ORIGINS, or by default the origin of
        EISO_PUBLIC_URL and that of the address `eiso serve` listens on. Never the request's Host header."""
        if self.public_origins:
            return set(self.public_origins)
        found = {origin_of(self.public_url)}
        host = f"[{self.host}]" if ":" in self.host else self.host
        try:
            found.add(origin_of(f"http://{host}:{self.port}"))
        except ValueError:
            pass
        return found

    @property
    def cookie_secure(self) -> bool:
        """Session cookies are Secure behind HTTPS: set so, or because the public origin is https."""
        return self.secure_cookies or self.https

    @property
    def https(self) -> bool:
        """The public origin is https: cookies are Secure and answers carry HSTS."""
        origins = self.public_origins or (origin_of(self.public_url),)
        return all(o.startswith("https://") for o in origins)

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
