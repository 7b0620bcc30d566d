"""Rigsite settings, read from the environment.

DATABASE_URL (default: SQLite file db.sqlite3 in the project), SECRET_KEY, DEBUG, ALLOWED_HOSTS,
CACHE_URL-like REDIS_URL (optional). Production hardening lives in rigsite/settings_production.py.
"""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", True)
# A development key; production settings refuse to start without a real SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-insecure-rigsite-key-change-me-in-production-0123456789")
# The public address for links that leave the site (Markdown export); empty: the request's own host.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "import_export",
    "simple_history",
    "axes",
    "catalog",
    "builds",
]

MIDDLEWARE = [
    "rigsite.query_count.QueryCountMiddleware",  # inert unless RIGSITE_QUERY_COUNT_HEADER=1 (benchmarks)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "builds.edit_keys.EditKeyCookieMiddleware",  # folds old per-build edit cookies into one
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the lockout page
]

ROOT_URLCONF = "rigsite.urls"
WSGI_APPLICATION = "rigsite.wsgi.application"

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
                "rigsite.context_processors.site",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent saves on SQLite (`make run`): WAL lets readers run beside the one writer; every transaction
    # takes the write lock when it begins (IMMEDIATE), so two writers queue on the busy timeout instead of
    # one failing with "database is locked" when it upgrades a read lock. Django 5.1+ OPTIONS, see
    # https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-transaction-behavior and #sqlite-init-command
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,  # seconds a writer waits for the lock (sqlite3.connect timeout)
    }
    # A file, not the in-memory default: the live-server concurrency tests need threads with their own
    # connections to one database. One file per test process, so parallel runs do not share it.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"rigsite-test-{os.getpid()}.sqlite3")
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rigsite"}}
if os.environ.get("REDIS_URL"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
        # Cached reports, diagrams and report HTML are derived from the code: a release reads only its own.
        "KEY_PREFIX": os.environ.get("RIGSITE_RELEASE", ""),
    }

# Admin login throttling (django-axes): the throttle backend first, then Django's own.
AUTHENTICATION_BACKENDS = [
    "rigsite.ratelimits.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("RIGSITE_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("RIGSITE_LOGIN_COOLOFF_MINUTES", "15")))
# Locked when one address, or one username from anywhere, fails AXES_FAILURE_LIMIT times in a row.
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "rigsite.ratelimits.client_ip"
AXES_LOCKOUT_CALLABLE = "rigsite.ratelimits.login_locked_out"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG or env_bool("RIGSITE_PLAIN_STATIC", False):
    # The manifest storage needs collectstatic first; development and tests serve files as they are.
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Content Security Policy (django-csp 4): our scripts carry a nonce; no inline handlers, no other hosts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from hx-headers, not the cookie; kept default.

LOGIN_URL = "admin:login"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Rigsite's own settings
RIGSITE_PRICE_STALE_DAYS = int(os.environ.get("RIGSITE_PRICE_STALE_DAYS", "90"))
RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE = int(os.environ.get("RIGSITE_RATE_LIMIT_WRITES_PER_MINUTE", "60"))
RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE = int(os.environ.get("RIGSITE_RATE_LIMIT_LOOKUPS_PER_MINUTE", "600"))

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
RATELIMIT_VIEW = "rigsite.ratelimits.limited"
# Rate limits and login throttling key on the client's address: REMOTE_ADDR, or with N trusted reverse
# proxies in front (RIGSITE_TRUSTED_PROXIES=N) the address the outermost trusted proxy saw
# (X-Forwarded-For). Counters live in the default cache: Redis when REDIS_URL is set, shared by all servers.
RIGSITE_TRUSTED_PROXIES = int(os.environ.get("RIGSITE_TRUSTED_PROXIES", "0"))
RATELIMIT_IP_META_KEY = "rigsite.ratelimits.client_ip"
RATELIMIT_USE_CACHE = "default"
# Edit keys: one cookie holding the keys of the most recent builds this browser made or forked.
RIGSITE_EDIT_KEYS_KEPT = int(os.environ.get("RIGSITE_EDIT_KEYS_KEPT", "50"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6 default, opted into now
