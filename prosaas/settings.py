"""Django settings for ProSaaS core.

Every value that differs between machines comes from the environment, read here
and nowhere else. ``.env.example`` lists the variables. A value that does not
parse stops start-up with a message naming the variable.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from prosaas.env import read_bool, read_float, read_int

BASE_DIR = Path(__file__).resolve().parent.parent

# A local .env is a convenience for development; real deployments set the environment.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

env = environ.Env()

DEBUG = read_bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "businesses",
    "crm",
    "intelligence",
]

MIDDLEWARE = [
    # Outermost, so that it counts every query of the request (sessions, auth, views).
    "prosaas.query_metrics.QueryMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost, so that it sees exceptions raised by views and DRF authentication.
    "prosaas.middleware.DatabasePoolExhaustedMiddleware",
]

ROOT_URLCONF = "prosaas.urls"
WSGI_APPLICATION = "prosaas.wsgi.application"
ASGI_APPLICATION = "prosaas.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------
#
# Connections come from a SQLAlchemy QueuePool (django-db-connection-pool): at most
# DB_POOL_SIZE kept open per process, plus DB_MAX_OVERFLOW opened on demand and closed
# when returned. A request that finds all of them busy waits DB_POOL_TIMEOUT seconds
# and then gets a 503 (prosaas.middleware), never a hang.
#
# Budget: processes x (DB_POOL_SIZE + DB_MAX_OVERFLOW) must stay below the server's
# max_connections (minus superuser_reserved_connections and what migrations, cron jobs
# and psql sessions use). Behind PgBouncer/Supavisor these are connections to the
# pooler, not to PostgreSQL: the pooler's own pool size bounds the server side, and in
# transaction mode (DB_TRANSACTION_POOLER=true) server-side cursors must be off because
# consecutive transactions may land on different server connections.
# Keep DB_POOL_RECYCLE below the idle cut-off of anything between us and the database
# (Supavisor and most cloud load balancers drop idle connections after minutes).

DB_POOL_SIZE = read_int("DB_POOL_SIZE", default=10, minimum=1, maximum=1000)
DB_MAX_OVERFLOW = read_int("DB_MAX_OVERFLOW", default=10, minimum=0, maximum=1000)
DB_POOL_TIMEOUT = read_float("DB_POOL_TIMEOUT", default=5.0, minimum=0.1, maximum=300)
DB_POOL_RECYCLE = read_int("DB_POOL_RECYCLE", default=300, minimum=1, maximum=86_400)
DB_TRANSACTION_POOLER = read_bool("DB_TRANSACTION_POOLER", default=False)
# Seconds a client is told to wait (Retry-After) when the pool is exhausted.
DB_POOL_RETRY_AFTER = read_int("DB_POOL_RETRY_AFTER", default=1, minimum=1, maximum=3600)

if env.str("DATABASE_URL", default=""):
    _database = env.db_url("DATABASE_URL")
    if _database["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "DATABASE_URL must be a PostgreSQL URL (postgres://user:password@host:5432/name)."
        )
elif DEBUG:
    from prosaas.embedded_db import embedded_database_settings

    _database = embedded_database_settings(BASE_DIR / ".data")
else:
    raise ImproperlyConfigured(
        "DATABASE_URL must be set when DEBUG is off; the embedded PostgreSQL is for "
        "development and tests only."
    )

_database.update(
    {
        "ENGINE": "dj_db_conn_pool.backends.postgresql",
        # The pool owns connection reuse; Django must hand every connection back to it
        # at the end of the request.
        "CONN_MAX_AGE": 0,
        "DISABLE_SERVER_SIDE_CURSORS": DB_TRANSACTION_POOLER,
        # Keys must be upper case and known to the library: it silently drops others,
        # and it reads POOL_SIZE=0 / MAX_OVERFLOW=-1 as "unlimited" (excluded above).
        "POOL_OPTIONS": {
            "POOL_SIZE": DB_POOL_SIZE,
            "MAX_OVERFLOW": DB_MAX_OVERFLOW,
            "TIMEOUT": DB_POOL_TIMEOUT,
            "RECYCLE": DB_POOL_RECYCLE,
            "PRE_PING": True,
        },
    }
)
_database.setdefault("OPTIONS", {})
_database["OPTIONS"].setdefault("connect_timeout", 10)
_database.setdefault("TEST", {})
DATABASES = {"default": _database}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Request query budget --------------------------------------------------------------
#
# A request running more SQL queries than this is logged as a warning naming its view
# (prosaas/query_metrics.py). The API's endpoints run 3 to a handful; an N+1 on a list
# page runs dozens.
REQUEST_QUERY_BUDGET = read_int("REQUEST_QUERY_BUDGET", default=20, minimum=1, maximum=100_000)

# --- Cache -----------------------------------------------------------------------------
#
# Tenant resolution reads two caches (businesses/cache.py, docs/cache.md): business +
# settings by business id, and memberships by user id, each in its own alias.
# Without CACHE_URL each process keeps them in local memory, evicting the least
# recently used entry one at a time at the limit, and processes tell each other about
# changes over PostgreSQL LISTEN/NOTIFY. With CACHE_URL (redis://...) every process
# shares one store and the entry limit is the server's (maxmemory-policy).

BUSINESS_SETTINGS_CACHE_ENABLED = read_bool("BUSINESS_SETTINGS_CACHE_ENABLED", default=True)
BUSINESS_SETTINGS_CACHE_TTL = read_int(
    "BUSINESS_SETTINGS_CACHE_TTL", default=600, minimum=1, maximum=86_400
)
BUSINESS_SETTINGS_CACHE_MAX_ENTRIES = read_int(
    "BUSINESS_SETTINGS_CACHE_MAX_ENTRIES", default=1000, minimum=1, maximum=10_000_000
)
MEMBERSHIP_CACHE_MAX_ENTRIES = read_int(
    "MEMBERSHIP_CACHE_MAX_ENTRIES", default=10_000, minimum=1, maximum=10_000_000
)
BUSINESS_SETTINGS_CACHE_BROADCAST = read_bool("BUSINESS_SETTINGS_CACHE_BROADCAST", default=True)

CACHE_URL = env.str("CACHE_URL", default="")
if CACHE_URL:
    _cache = env.cache_url("CACHE_URL")
    # django-environ lower-cases every query option for Django's RedisCache, also the
    # ones Django reads in upper case (?key_prefix=..., ?timeout=...): restore them.
    for _option in ("TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION"):
        if _option.lower() in _cache:
            _cache[_option] = _cache.pop(_option.lower())
else:
    _cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
_cache.setdefault("LOCATION", "prosaas-default")


def _tenant_cache(location: str, max_entries: int) -> dict[str, object]:
    if not BUSINESS_SETTINGS_CACHE_ENABLED:
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    if CACHE_URL:
        return {**_cache, "TIMEOUT": BUSINESS_SETTINGS_CACHE_TTL}
    return {
        "BACKEND": "businesses.cache_backends.LRULocMemCache",
        # Its own LOCATION: clearing this cache must not clear anything else.
        "LOCATION": location,
        "TIMEOUT": BUSINESS_SETTINGS_CACHE_TTL,
        "OPTIONS": {"MAX_ENTRIES": max_entries},
    }


CACHES = {
    "default": _cache,
    "business_settings": _tenant_cache("business-settings", BUSINESS_SETTINGS_CACHE_MAX_ENTRIES),
    "memberships": _tenant_cache("memberships", MEMBERSHIP_CACHE_MAX_ENTRIES),
}

if (
    DB_TRANSACTION_POOLER
    and BUSINESS_SETTINGS_CACHE_ENABLED
    and BUSINESS_SETTINGS_CACHE_BROADCAST
    and not CACHE_URL
):
    raise ImproperlyConfigured(
        "DB_TRANSACTION_POOLER=true needs a shared cache: set CACHE_URL=redis://... "
        "Processes keep local-memory caches coherent over LISTEN/NOTIFY, which a "
        "transaction pooler cannot carry. (Only for a single server process: "
        "BUSINESS_SETTINGS_CACHE_BROADCAST=false.)"
    )

# --- Auth, i18n, static ----------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "rest_framework:login"
LOGIN_REDIRECT_URL = "/api/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Django REST framework -------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's TokenAuthentication, its one query compiled once (issue 13).
        "prosaas.authentication.CompiledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "prosaas.pagination.KeysetPagination",
    "DEFAULT_FILTER_BACKENDS": ["prosaas.filters.StrictDjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        # DRF's JSONRenderer output, written by orjson (issue 13).
        "prosaas.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "PAGE_SIZE": 50,
}

# --- Request fast path (issue 13) -------------------------------------------------------
#
# On (the default): orjson rendering, serializer fields built once per class, and the
# intelligence pages built as JSON by PostgreSQL (docs/performance.md). Off: the
# previous implementation, byte for byte the same responses. The switch exists for the
# benchmark's side-by-side comparison and for diagnosis; production leaves it on.
API_FAST_PATH = read_bool("API_FAST_PATH", default=True)

SPECTACULAR_SETTINGS = {
    "TITLE": "ProSaaS core API",
    "DESCRIPTION": "Multi-tenant CRM: customers, leads, calls and WhatsApp messages.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Three models have a `status` with different choices; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "crm.models.Lead.Status",
        "CallStatusEnum": "crm.models.CallLog.Status",
        "WhatsAppMessageStatusEnum": "crm.models.WhatsAppMessage.Status",
    },
}

# --- Logging ---------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} is not a logging level.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # Django's own default handler would print its records a second time.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "prosaas": {"level": LOG_LEVEL},
        "businesses": {"level": LOG_LEVEL},
        "crm": {"level": LOG_LEVEL},
        "intelligence": {"level": LOG_LEVEL},
    },
}

if not DEBUG:
    SESSION_COOKIE_SECURE = read_bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = read_bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
