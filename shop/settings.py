"""Settings read from the environment and validated once, at start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shop.i18n.formats import is_two_decimal_currency
from shop.i18n.languages import available_tags, resolve_tag

SECRET_KEY_FILE = "secret.key"  # noqa: S105 (a file name, not a secret)
MEDIA_DIR = "media"
# Query options of a MongoDB URL that can carry a secret.
_SECRET_OPTIONS = ("password", "secret", "token", "authmechanismproperties")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    data_dir: Path
    secret_key: bytes = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 8080
    https: bool = False
    session_max_age: int = 7 * 24 * 3600
    # The shop's own origin (scheme://host[:port]) when set: the only one the cross-site
    # checks accept. Unset, the request's Host header is trusted.
    public_url: str | None = None
    # Password throttling (shop.service.throttle): failures allowed per window per account
    # and address together, per address, and per account from every address.
    login_max_failures: int = 5
    login_max_failures_per_address: int = 100
    login_max_failures_per_account: int = 50
    login_window: float = 15 * 60
    # How often the API tokens' "last used" times are written (in one batch).
    token_touch_interval: float = 60.0
    # Hashing parameters can be lowered in tests; production uses OWASP's Argon2id choice.
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19 * 1024
    client_max_size: int = 64 * 1024
    trust_forwarded: bool = False
    # Image uploads decoded and re-encoded at once (each takes a worker thread).
    image_workers: int = 2
    # Several processes share live events (and catalogue-cache drops) over this Redis.
    redis_url: str | None = None
    # No request waits on the database longer than this (seconds), then it is a 503.
    store_timeout: float = 3.0
    # Below this much free disk space (MiB) next to the SQLite file, /readyz says not ready.
    min_free_mb: int = 100
    # The language of a reader who names none we have (a tag of shop.i18n), and the
    # currency every price is in (ISO 4217, two decimals).
    language: str = "en"
    currency: str = "USD"
    # The shop's time zone (an IANA name): the back office counts sales by its days.
    timezone: str = "UTC"
    # A test hook, never read from the environment: PyMongo monitoring listeners given to
    # the MongoDB client (the tests count round trips with a CommandListener).
    mongo_listeners: tuple[object, ...] = ()

    @property
    def is_mongo(self) -> bool:
        return self.database_url.startswith(("mongodb://", "mongodb+srv://"))

    @property
    def sqlite_path(self) -> Path:
        # As SQLAlchemy reads it: sqlite:///relative/shop.db, sqlite:////absolute/shop.db.
        return Path(urlsplit(self.database_url).path[1:])

    @property
    def media_dir(self) -> Path:
        """Where the SQLite store keeps image files (MongoDB keeps them in GridFS)."""
        return self.data_dir / MEDIA_DIR

    def describe_database(self) -> str:
        """Which database this is, for the operator: the SQLite file's absolute path, or
        the MongoDB URL with its password (and any secret option) masked."""
        if self.is_mongo:
            return f"MongoDB {redact_url(self.database_url)}"
        return f"SQLite file {self.sqlite_path.resolve()}"


def redact_url(url: str) -> str:
    """The URL with the password of its user info, and secret-bearing options, as ***."""
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        userinfo = f"{user}:***" if colon else user
    options = [
        (name, "***" if any(word in name.lower() for word in _SECRET_OPTIONS) else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    query = urlencode(options, safe="*:,/") if options else parts.query
    return urlunsplit(parts._replace(netloc=f"{userinfo}{at}{hosts}", query=query))


def _port(name: str, raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a port number, got {raw!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{name} must be between 0 and 65535, got {port}")
    return port


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"", "0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")


def _number(name: str, raw: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:  # also refuses nan
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return value


def redis_url(raw: str | None) -> str | None:
    """Validate SHOP_REDIS_URL; None (no Redis: events stay in this process) when unset."""
    if not raw:
        return None
    if urlsplit(raw).scheme not in {"redis", "rediss", "unix"}:
        raise ConfigError("SHOP_REDIS_URL must start with redis://, rediss:// or unix://")
    return raw


def timezone(raw: str | None) -> str:
    """SHOP_TIMEZONE as an IANA name zoneinfo knows (`America/Argentina/Buenos_Aires`)."""
    name = (raw or "").strip() or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"SHOP_TIMEZONE must be a time zone name like America/Argentina/Buenos_Aires"
            f" or UTC, got {raw!r}"
        ) from None
    return name


def public_url(raw: str | None) -> str | None:
    """SHOP_PUBLIC_URL as an origin ("https://shop.example.com"), or None when unset."""
    if not raw:
        return None
    parts = urlsplit(raw.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"SHOP_PUBLIC_URL must be http:// or https:// and a host, got {raw!r}")
    if parts.path not in {"", "/"} or parts.query or parts.fragment or parts.username:
        raise ConfigError(
            f"SHOP_PUBLIC_URL must be an origin like https://shop.example.com "
            f"(no path, query or user), got {raw!r}"
        )
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"SHOP_PUBLIC_URL has a bad port: {raw!r}") from None
    # As browsers send Origin: lower-case host, no default port.
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def database_url(raw: str | None, data_dir: Path) -> str:
    """Validate SHOP_DATABASE_URL, defaulting to SQLite in the data dir."""
    if not raw:
        return f"sqlite:///{(data_dir / 'shop.db').resolve()}"
    parts = urlsplit(raw)
    if parts.scheme == "sqlite":
        if parts.netloc or len(parts.path) < 2 or parts.path.endswith("/"):
            raise ConfigError(
                "SHOP_DATABASE_URL: a SQLite URL is sqlite:///path/to/shop.db "
                "(three slashes, then the file path; absolute paths make four)"
            )
        return raw
    if parts.scheme in {"mongodb", "mongodb+srv"}:
        if not parts.path.strip("/"):
            raise ConfigError(
                "SHOP_DATABASE_URL: the MongoDB URL must name a database, e.g. mongodb://host/shop"
            )
        return raw
    raise ConfigError("SHOP_DATABASE_URL must start with sqlite:///, mongodb:// or mongodb+srv://")


def load_secret_key(raw: str | None, data_dir: Path) -> bytes:
    """The configured key, or one generated on first start and kept with mode 0600."""
    if raw:
        if len(raw) < 32:
            raise ConfigError("SHOP_SECRET_KEY must be at least 32 characters")
        return raw.encode()
    path = data_dir / SECRET_KEY_FILE
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            # O_EXCL: two processes starting at once must not each write a different key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_bytes().strip()
        else:
            key = secrets.token_urlsafe(48).encode()
            with os.fdopen(fd, "wb") as out:
                out.write(key + b"\n")
    except OSError as exc:
        raise ConfigError(f"cannot keep the secret key in {path}: {exc.strerror}") from None
    if len(key) < 32:
        raise ConfigError(f"the secret key in {path} is too short; delete it to make a new one")
    return key


def language(raw: str | None) -> str:
    """SHOP_LANGUAGE as the tag of a language the shop has (`es` names `es-AR`)."""
    tag = resolve_tag(raw or "en")
    if tag is None:
        choices = ", ".join(available_tags())
        raise ConfigError(f"SHOP_LANGUAGE must be one of {choices}, got {raw!r}")
    return tag


def currency(raw: str | None) -> str:
    """SHOP_CURRENCY: an ISO 4217 code whose amounts have two decimals (USD, EUR, ARS)."""
    code = (raw or "USD").strip().upper()
    if not is_two_decimal_currency(code):
        raise ConfigError(
            f"SHOP_CURRENCY must be an ISO 4217 code of a currency with two decimals "
            f"(USD, EUR, ARS...), got {raw!r}"
        )
    return code


MAX_COUNT = 1_000_000
MAX_WINDOW = 7 * 24 * 3600  # a week, in seconds


def _count(name: str, raw: str, low: int, high: int) -> int:
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12) or not low <= int(raw) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Read SHOP_* variables; raise ConfigError with one line naming the bad one."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("SHOP_DATA_DIR") or "./var")
    return Settings(
        database_url=database_url(env.get("SHOP_DATABASE_URL"), data_dir),
        data_dir=data_dir,
        secret_key=load_secret_key(env.get("SHOP_SECRET_KEY"), data_dir),
        host=env.get("SHOP_HOST") or "127.0.0.1",
        port=_port("SHOP_PORT", env.get("SHOP_PORT") or "8080"),
        https=_flag("SHOP_HTTPS", env.get("SHOP_HTTPS", "")),
        trust_forwarded=_flag("SHOP_TRUST_FORWARDED", env.get("SHOP_TRUST_FORWARDED", "")),
        image_workers=_count("SHOP_IMAGE_WORKERS", env.get("SHOP_IMAGE_WORKERS") or "2", 1, 64),
        redis_url=redis_url(env.get("SHOP_REDIS_URL")),
        store_timeout=_number(
            "SHOP_STORE_TIMEOUT", env.get("SHOP_STORE_TIMEOUT") or "3", low=0.1, high=300
        ),
        min_free_mb=_count("SHOP_MIN_FREE_MB", env.get("SHOP_MIN_FREE_MB") or "100", 0, 10**9),
        timezone=timezone(env.get("SHOP_TIMEZONE")),
        public_url=public_url(env.get("SHOP_PUBLIC_URL")),
        language=language(env.get("SHOP_LANGUAGE")),
        currency=currency(env.get("SHOP_CURRENCY")),
        login_max_failures=_count(
            "SHOP_LOGIN_MAX_FAILURES", env.get("SHOP_LOGIN_MAX_FAILURES") or "5", 1, MAX_COUNT
        ),
        login_max_failures_per_address=_count(
            "SHOP_LOGIN_MAX_FAILURES_PER_ADDRESS",
            env.get("SHOP_LOGIN_MAX_FAILURES_PER_ADDRESS") or "100",
            1,
            MAX_COUNT,
        ),
        login_max_failures_per_account=_count(
            "SHOP_LOGIN_MAX_FAILURES_PER_ACCOUNT",
            env.get("SHOP_LOGIN_MAX_FAILURES_PER_ACCOUNT") or "50",
            1,
            MAX_COUNT,
        ),
        login_window=_count(
            "SHOP_LOGIN_WINDOW", env.get("SHOP_LOGIN_WINDOW") or "900", 1, MAX_WINDOW
        ),
    )
