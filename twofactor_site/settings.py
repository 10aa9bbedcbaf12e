"""Settings for twofactor.

Everything an operator sets comes from the environment, through the helpers below, which
refuse a bad value with a message naming the variable instead of failing somewhere later.
Every security knob is a named setting with a default and a comment saying why.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from twofactor_site.text import has_control_characters

BASE_DIR = Path(__file__).resolve().parent.parent


# --- Environment helpers ---------------------------------------------------------------------


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_text(name: str, default: str = "") -> str:
    """A value shown in email headers or pages (SITE_NAME, DEFAULT_FROM_EMAIL): one line."""
    value = env_str(name, default)
    if has_control_characters(value):
        raise ImproperlyConfigured(f"{name} must not contain line breaks or control characters")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}"
    )


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "")
    if raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """Turn DATABASE_URL into a Django DATABASES entry: postgres:// or sqlite:///path."""
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(
                "DATABASE_URL must name a database: postgres://user@host/NAME"
            )
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        # A database host that does not answer fails a request, a health check or the mail
        # worker's loop within seconds instead of waiting on TCP's own timeout.
        options.setdefault("connect_timeout", "3")
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured("DATABASE_URL has a port that is not a number") from None
        return {
            # Django's backend, with a health check that looks at the socket before it asks
            # the server (twofactor_site/postgresql/base.py).
            "ENGINE": "twofactor_site.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "OPTIONS": options,
            # Reuse connections between requests; checked before use, so a restarted
            # PostgreSQL costs one failed health check, not a failed request (the check
            # asks the server only when the socket shows it has closed or spoken).
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    if parts.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db
        path = unquote(parts.path)[1:]
        if not path:
            raise ImproperlyConfigured(
                "DATABASE_URL for SQLite must name a file: sqlite:///db.sqlite3"
            )
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with postgres:// or sqlite:///; got scheme {parts.scheme!r}"
    )


def redis_cache(url: str, *, key_prefix: str) -> dict:
    """The CACHES entry for the shared Redis (sessions, pending logins, rate limits)."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": key_prefix,
        "OPTIONS": {
            # Fail fast when Redis is down: the page says "try again shortly" within a
            # second instead of hanging a worker.
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
    }


def redis_caches(url: str, *, key_prefix: str) -> dict:
    """CACHES for the shared Redis: "default", and "ratelimit" on the same database (one
    flush clears both) with a client that counts a request in one round trip
    (twofactor_site/ratelimit_cache.py)."""
    default = redis_cache(url, key_prefix=key_prefix)
    client = "twofactor_site.ratelimit_cache.RateLimitClient"
    options = {**default["OPTIONS"], "CLIENT_CLASS": client}
    return {"default": default, "ratelimit": {**default, "OPTIONS": options}}


# --- Core ------------------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", False)
TESTING = "pytest" in sys.modules or (len(sys.argv) > 1 and sys.argv[1] == "test")

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set unless DJANGO_DEBUG is on")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"] if (DEBUG or TESTING) else []
)

# The canonical address of this site. Every emailed link is built from it, never from the
# request's Host header (a forged Host must not steer a sign-in link to an attacker).
# localhost, not 127.0.0.1: WebAuthn refuses an IP address as the relying party id, and
# browsers treat http://localhost as a secure context, so passkeys work on a fresh clone.
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in ("http", "https") or not _site.netloc:
    raise ImproperlyConfigured(f"SITE_URL must be an http(s) address; got {SITE_URL!r}")
SITE_NAME = env_text("SITE_NAME", "Twofactor")
SUPPORT_EMAIL = env_text("SUPPORT_EMAIL", "support@example.com")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "accounts",
    "accounts.sso",
    "security",
    "security.passkeys",
    *([] if find_spec("django.tasks") else ["django_tasks"]),  # Django 5.2: the backport
    "django_tasks_db",
    "twofactor_site.mail",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "twofactor_site.middleware.SecurityHeadersMiddleware",
    # /healthz, inside the two that set every answer's headers and before anything else
    # (SECURE_REDIRECT_EXEMPT spares its plain-HTTP probe the HTTPS redirect).
    "twofactor_site.health.HealthCheckMiddleware",
    "twofactor_site.middleware.RequestShapeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Added below when there is a language to choose (USE_I18N).
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.PendingLoginMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "security.middleware.EnrollmentRequiredMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "twofactor_site.urls"
WSGI_APPLICATION = "twofactor_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "twofactor_site.context_processors.site",
            ],
            "libraries": {
                "fields": "twofactor_site.templatetags.fields",
                "tables": "twofactor_site.templatetags.tables",
            },
        },
    },
]

# The plain <input> widgets rendered in Python, the rest through Django's templates
# (twofactor_site/form_renderer.py says why).
FORM_RENDERER = "twofactor_site.form_renderer.FormRenderer"

DATABASES = {
    "default": database_from_url(env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# HSTS preload is a promise about every subdomain that is hard to take back, so it is the
# operator's choice (SECURE_HSTS_PRELOAD=1), and check --deploy is not asked to nag about it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# --- Cache: the shared store of rate limits --------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    if urlsplit(REDIS_URL).scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://")
    CACHES = redis_caches(REDIS_URL, key_prefix=env_str("CACHE_KEY_PREFIX", "twofactor"))
else:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "REDIS_URL must be set unless DJANGO_DEBUG is on: rate limits must be shared by "
            "every app process"
        )
    # Said once, by the dev server: not by every command `make run` runs first, nor again by
    # the autoreloader's child process (RUN_MAIN).
    if DEBUG and sys.argv[1:2] == ["runserver"] and os.environ.get("RUN_MAIN") != "true":
        sys.stderr.write(
            "Note: REDIS_URL is not set, so the cache is local memory and rate limits are per "
            "process. Fine for the dev server, never for production.\n"
        )
    _local_memory = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        # Sessions live here too: keep them from being culled on a busy dev server.
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
    # One store under both names (the same LOCATION): one clear() clears the rate limits too.
    CACHES = {"default": _local_memory, "ratelimit": _local_memory}
    # django-ratelimit warns that local memory is not shared; we said so above.
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]

# Its own alias, on the same store, for its one-round-trip client (ratelimit_cache.py).
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_VIEW = "twofactor_site.views.ratelimited"

# --- Auth ------------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"

PASSWORD_HASHERS = [
    "accounts.hashers.TeamArgon2PasswordHasher",
    # Older hashes still verify, and are re-hashed with Argon2id at the next sign-in.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
# OWASP Password Storage Cheat Sheet minimum for Argon2id: m=19 MiB, t=2, p=1.
ARGON2_MEMORY_COST_KIB = env_int("ARGON2_MEMORY_COST_KIB", 19 * 1024, minimum=19 * 1024)
ARGON2_TIME_COST = env_int("ARGON2_TIME_COST", 2, minimum=2)
ARGON2_PARALLELISM = env_int("ARGON2_PARALLELISM", 1, minimum=1)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # NIST 800-63B 5.1.1.2: at least 8 characters when chosen by the user.
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Password reset and invitation links: one day is long enough to open an email.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 24 * 3600, minimum=600)

# --- Sign-in policy (every knob a named setting) ---------------------------------------------

# How long the half-finished login (password given, second step not yet) lives.
TWOFACTOR_PENDING_LOGIN_MINUTES = env_int("TWOFACTOR_PENDING_LOGIN_MINUTES", 10, minimum=1)
# ASVS 2.7.2: an out-of-band link expires within 10 minutes.
TWOFACTOR_EMAIL_LINK_MINUTES = env_int("TWOFACTOR_EMAIL_LINK_MINUTES", 10, minimum=1)
# Consecutive wrong codes before the code step locks (NIST allows at most 100).
TWOFACTOR_MAX_FAILED_CODES = env_int("TWOFACTOR_MAX_FAILED_CODES", 10, minimum=1)
TWOFACTOR_LOCKOUT_MINUTES = env_int("TWOFACTOR_LOCKOUT_MINUTES", 15, minimum=1)
# Consecutive wrong codes, across lockouts, after which the code step stays locked until an
# Account Admin or support removes and re-adds the member (NIST 800-63B 5.2.2: at most 100).
TWOFACTOR_MAX_CONSECUTIVE_FAILED_CODES = env_int(
    "TWOFACTOR_MAX_CONSECUTIVE_FAILED_CODES", 100, minimum=1
)
if TWOFACTOR_MAX_CONSECUTIVE_FAILED_CODES > 100:
    raise ImproperlyConfigured("TWOFACTOR_MAX_CONSECUTIVE_FAILED_CODES must be at most 100 (NIST)")
# Seeing recovery codes or removing the app asks for the password again after this long.
TWOFACTOR_REAUTH_MINUTES = env_int("TWOFACTOR_REAUTH_MINUTES", 10, minimum=1)
# A browser stays "known" (accounts/known_browsers.py) this long after its last sign-in as a
# member: a year, below the 400 days browsers keep a cookie at most.
TWOFACTOR_KNOWN_BROWSER_DAYS = env_int("TWOFACTOR_KNOWN_BROWSER_DAYS", 365, minimum=1)
TWOFACTOR_KNOWN_BROWSER_COOKIE_NAME = "twofactor_known"
# The random tokens of the browser's trusts (accounts/trusted_browsers.py); Secure as the
# session cookie is (production), HttpOnly and SameSite=Lax.
TWOFACTOR_TRUSTED_BROWSER_COOKIE_NAME = "twofactor_trusted"
# The security log keeps events this long (manage.py prune_security_log deletes older ones):
# a year and a month, so a yearly audit always finds its whole year.
TWOFACTOR_SECURITY_LOG_DAYS = env_int("TWOFACTOR_SECURITY_LOG_DAYS", 400, minimum=1)
# Warn the member when this few recovery codes are left.
TWOFACTOR_RECOVERY_CODES_LOW = 3
# TOTP key encryption: comma-separated Fernet keys, newest first (old ones still decrypt).
# Never stored in the database; derived from SECRET_KEY only in debug and tests.
TWOFACTOR_ENCRYPTION_KEYS = env_list("TWOFACTOR_ENCRYPTION_KEYS", [])
if not TWOFACTOR_ENCRYPTION_KEYS and not (DEBUG or TESTING):
    raise ImproperlyConfigured(
        "TWOFACTOR_ENCRYPTION_KEYS must be set: it encrypts authenticator secrets at rest. "
        "Make one with: python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'"
    )

# --- Single sign-on (OpenID Connect per team, accounts/sso/) ----------------------------------

# Every call to an identity provider (discovery, JWKS, token) gives up after this many
# seconds: a slow provider gets a clear page, never a hung worker.
TWOFACTOR_SSO_TIMEOUT_SECONDS = env_int("TWOFACTOR_SSO_TIMEOUT_SECONDS", 10, minimum=1)
# OpenID Connect requires https issuers. For tests and local development only, http may be
# allowed for issuers on a loopback address (127.0.0.0/8, ::1, localhost); never elsewhere.
TWOFACTOR_SSO_ALLOW_HTTP_LOOPBACK = env_bool("TWOFACTOR_SSO_ALLOW_HTTP_LOOPBACK", False)
if TWOFACTOR_SSO_ALLOW_HTTP_LOOPBACK and not (DEBUG or TESTING):
    raise ImproperlyConfigured(
        "TWOFACTOR_SSO_ALLOW_HTTP_LOOPBACK is for tests and development: it needs DJANGO_DEBUG"
    )
# The DNS server asked for domain verification TXT records, as host or host:port (an IPv6
# address in brackets: [::1]:53). Empty: the system's resolvers (/etc/resolv.conf).
TWOFACTOR_SSO_DNS_RESOLVER = env_str("TWOFACTOR_SSO_DNS_RESOLVER")
if TWOFACTOR_SSO_DNS_RESOLVER:
    _resolver = urlsplit(f"dns://{TWOFACTOR_SSO_DNS_RESOLVER}")
    try:
        ipaddress.ip_address(_resolver.hostname or "")
        _resolver.port  # noqa: B018  (raises ValueError when not a port number)
    except ValueError:
        raise ImproperlyConfigured(
            "TWOFACTOR_SSO_DNS_RESOLVER must be an IP address, optionally with a port "
            f"(192.0.2.53, 192.0.2.53:5353, [::1]:53); got {TWOFACTOR_SSO_DNS_RESOLVER!r}"
        ) from None
# How long discovery documents and signing keys are reused before they are fetched again (a
# token signed with a key we have not seen yet fetches the keys at once).
TWOFACTOR_SSO_METADATA_CACHE_SECONDS = env_int(
    "TWOFACTOR_SSO_METADATA_CACHE_SECONDS", 300, minimum=0
)

# Rate limits, in django-ratelimit's notation. Each is per key per window.
# Password attempts from one address: a team behind one NAT still signs in.
RATELIMIT_LOGIN_IP = env_str("RATELIMIT_LOGIN_IP", "30/10m")
# Password attempts against one email address: counted apart for each browser that signed in
# as that member before and for all other browsers together (accounts/known_browsers.py), so
# failures from elsewhere never lock the member's own browser out.
RATELIMIT_LOGIN_EMAIL = env_str("RATELIMIT_LOGIN_EMAIL", "10/10m")
# Turning a team's requirement on or off, per team: each "on" emails members.
RATELIMIT_REQUIREMENT = env_str("RATELIMIT_REQUIREMENT", "6/h")
# Sign-in link resends for one pending login: enough for a slow mail server.
RATELIMIT_RESEND = env_str("RATELIMIT_RESEND", "5/10m")
# Resends from one address, across every pending login there: a team behind one office NAT.
RATELIMIT_RESEND_IP = env_str("RATELIMIT_RESEND_IP", "30/10m")
# Code attempts from one address (the per-user lockout lives in the database).
RATELIMIT_CODE_IP = env_str("RATELIMIT_CODE_IP", "30/10m")
# Password reset requests from one address and for one email address.
RATELIMIT_RESET_IP = env_str("RATELIMIT_RESET_IP", "10/h")
RATELIMIT_RESET_EMAIL = env_str("RATELIMIT_RESET_EMAIL", "3/h")
# Re-authentication attempts (password or code) in settings.
RATELIMIT_REAUTH_USER = env_str("RATELIMIT_REAUTH_USER", "10/10m")
# "Sign in with SSO" requests and provider callbacks from one address.
RATELIMIT_SSO_IP = env_str("RATELIMIT_SSO_IP", "30/10m")
# Invitations an admin may send.
RATELIMIT_INVITE_USER = env_str("RATELIMIT_INVITE_USER", "30/h")
# Security log exports per Account Admin: enough to fix a filter and try again, not enough
# to pull the whole team's log over and over with a stolen session.
RATELIMIT_SECURITY_EXPORT = env_str("RATELIMIT_SECURITY_EXPORT", "20/h")

# Addresses of reverse proxies whose X-Forwarded-For we believe (IPs or CIDR ranges).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES must list IP addresses or CIDR ranges; got {_proxy!r}"
        ) from None

# --- Sessions and cookies --------------------------------------------------------------------

# Sessions in the shared cache (Redis in production): every app process and host sees the
# same ones, and a sign-in step costs no session queries. Removing a member or changing a
# factor ends sessions through the user's security stamp, which works with any store.
SESSION_ENGINE = "twofactor_site.sessions"
# Absolute lifetime of a signed-in session (ASVS 3.3.2: re-authenticate at least every 12 h
# for L2; a working day).
SESSION_ABSOLUTE_HOURS = env_int("SESSION_ABSOLUTE_HOURS", 12, minimum=1)
# Idle lifetime: a session unused this long ends.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 60, minimum=1)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
# The idle window slides when accounts.middleware.SessionLifetimeMiddleware records the last
# request (at most once a minute), not by writing every session on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "twofactor_site.views.csrf_failure"

SECURE_PRODUCTION = not DEBUG and not TESTING
SESSION_COOKIE_SECURE = SECURE_PRODUCTION
CSRF_COOKIE_SECURE = SECURE_PRODUCTION
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SECURE_PRODUCTION)
# A load balancer probes an instance by its address over plain HTTP (twofactor_site.health).
SECURE_REDIRECT_EXEMPT = [r"^healthz\Z"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Request bodies: forms here are small; anything much larger is refused with a 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

# --- Email -----------------------------------------------------------------------------------

EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperlyConfigured("Set at most one of EMAIL_USE_TLS and EMAIL_USE_SSL")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
if DEBUG and EMAIL_BACKEND.endswith(".console.EmailBackend"):
    # `make run`: each email in the terminal, and each of its links on a line of its own.
    EMAIL_BACKEND = "twofactor_site.mail.console.EmailBackend"

# Every email is a task (twofactor_site.mail): queued in PostgreSQL in the transaction of the
# change that causes it and sent by `manage.py mail_worker`. "immediate" sends it at once,
# inside the request: the default of `make run` and the tests, never for production.
TWOFACTOR_TASKS_BACKEND = env_str(
    "TWOFACTOR_TASKS_BACKEND", "immediate" if (DEBUG or TESTING) else "database"
)
_TASKS_PACKAGE = "django.tasks" if find_spec("django.tasks") else "django_tasks"
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": f"{_TASKS_PACKAGE}.backends.immediate.ImmediateBackend",
}
if TWOFACTOR_TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured("TWOFACTOR_TASKS_BACKEND must be database or immediate")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TWOFACTOR_TASKS_BACKEND]}}
# 5 tries, 1, 2, 4 and 8 minutes apart: a mail server down for a quarter of an hour loses
# nothing; one down for longer is an outage an operator sees (`/healthz`: oldest unsent).
TWOFACTOR_EMAIL_TRIES = env_int("TWOFACTOR_EMAIL_TRIES", 5, minimum=1)
TWOFACTOR_EMAIL_RETRY_SECONDS = env_int("TWOFACTOR_EMAIL_RETRY_SECONDS", 60)
# A task RUNNING this long was left by a dead worker and is run again: far above the longest
# send (EMAIL_TIMEOUT per SMTP reply), so a live worker's task is never taken from it.
TWOFACTOR_EMAIL_VISIBILITY_SECONDS = env_int("TWOFACTOR_EMAIL_VISIBILITY_SECONDS", 300, minimum=1)
# An email waiting for an earlier one to the same address looks again this long after that
# one's next try.
TWOFACTOR_EMAIL_ORDER_WAIT_SECONDS = env_int("TWOFACTOR_EMAIL_ORDER_WAIT_SECONDS", 2)
DEFAULT_FROM_EMAIL = env_text("DEFAULT_FROM_EMAIL", f"{SITE_NAME} <no-reply@{_site.hostname}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Static files, i18n ----------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # whitenoise's and Django's, each remembering a file's address (static_storage.py).
        "BACKEND": "twofactor_site.static_storage.ManifestStaticFilesStorage"
        if SECURE_PRODUCTION
        else "twofactor_site.static_storage.StaticFilesStorage"
    },
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
# One date format with the product's pages, in the admin too (twofactor_site/formats/en).
FORMAT_MODULE_PATH = ["twofactor_site.formats"]
# Translation machinery (and LocaleMiddleware, which picks a language per request) only when
# there is a second language to pick: with one, Django's docs advise switching it off, and it
# costs every request a language negotiation and every string a catalog lookup for nothing.
# Dates keep the product's formats either way (FORMAT_MODULE_PATH, for LANGUAGE_CODE).
USE_I18N = len(LANGUAGES) > 1
if USE_I18N:
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
        "django.middleware.locale.LocaleMiddleware",
    )
USE_TZ = True

# --- Logging: the security log is a logger of its own; secrets are never passed to it -------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # Request lines name paths, and a few paths carry a token (an emailed sign-in link,
        # a reset or invitation link): those segments never reach a log.
        "redact_tokens": {"()": "twofactor_site.log_filters.RedactTokens"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "twofactor.security": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # The dev server's request log and Django's 4xx/5xx warnings, through the redaction.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # At DEBUG, a variable missing from a template is logged with the whole context:
        # recovery codes, an enrolling secret, a form's code. Never below INFO.
        "django.template": {"level": "INFO"},
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
