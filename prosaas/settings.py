"""Django settings for ProSaaS core.

Every value that differs between machines comes from the environment, read here
and nowhere else. ``.env.example`` lists the variables. A value that does not
parse stops start-up with a message naming the variable.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from prosaas.dotenv import dotenv_file
from prosaas.env import parse_networks, read_bool, read_float, read_int, read_rate

BASE_DIR = Path(__file__).resolve().parent.parent

# A local .env is a convenience for development (make run writes one); production,
# which sets DEBUG=false, ignores it unless DJANGO_DOTENV names a file. The rules are in
# prosaas/dotenv.py. Values in the file never override the real environment.
_dotenv = dotenv_file(BASE_DIR)
if _dotenv is not None:
    environ.Env.read_env(_dotenv)

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
    # Before rest_framework and drf_spectacular: its templates override theirs (the
    # browsable API's business switcher, Redoc without web fonts).
    "prosaas",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    # Database triggers declared on the models (cache invalidation outbox, derived data).
    "pgtrigger",
    # Swagger UI and Redoc as static files of our own: the docs work offline.
    "drf_spectacular_sidecar",
    "businesses",
    "crm",
    "intelligence",
]

MIDDLEWARE = [
    # Prometheus series: latency of the whole request, and the query
    # counter's numbers, so it wraps the query counter. Outermost, so that it sees the
    # status every answer leaves with.
    "prosaas.monitoring.PrometheusMiddleware",
    # Then any error answer under /api/ leaves as JSON (prosaas/errors.py).
    "prosaas.errors.JSONErrorsForAPIMiddleware",
    # Outside all others, so that it counts every query of the request (sessions, auth,
    # views).
    "prosaas.query_metrics.QueryMetricsMiddleware",
    # Which database serves the request's reads; says so in Server-Timing.
    "prosaas.replica_middleware.ReplicaRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost, so that it sees exceptions raised by views and DRF authentication.
    "prosaas.middleware.DatabaseOutageMiddleware",
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

# --- Database outages (prosaas/middleware.py, prosaas/outages.py) ---------------------
#
# A database that refuses, drops or times out answers a JSON 503 with Retry-After; a
# read whose connection dropped is retried once on a fresh one. No request waits on
# an unreachable server longer than DB_CONNECT_TIMEOUT (libpq counts whole seconds,
# at least 2) nor on a busy pool longer than DB_POOL_TIMEOUT.
DB_CONNECT_TIMEOUT = read_int("DB_CONNECT_TIMEOUT", default=5, minimum=2, maximum=300)
# Milliseconds a statement may run before PostgreSQL cancels it (503 database_timeout);
# 0 leaves the server's setting. Sent as a start-up option, which PgBouncer refuses
# unless it lists "options" in ignore_startup_parameters.
DB_STATEMENT_TIMEOUT_MS = read_int(
    "DB_STATEMENT_TIMEOUT_MS", default=0, minimum=0, maximum=86_400_000
)
# Seconds clients are told to wait after a 503 for an unavailable or slow database.
DB_OUTAGE_RETRY_AFTER = read_int("DB_OUTAGE_RETRY_AFTER", default=5, minimum=1, maximum=3600)
# A cause of 503s is logged at most once per this many seconds, with the count since.
OUTAGE_LOG_INTERVAL = read_float("OUTAGE_LOG_INTERVAL", default=10.0, minimum=0.0, maximum=3600)

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
# A connect_timeout in DATABASE_URL's query string would silently win over the variable.
if "connect_timeout" in _database["OPTIONS"]:
    raise ImproperlyConfigured(
        "Set the connect timeout with DB_CONNECT_TIMEOUT, not ?connect_timeout= in DATABASE_URL."
    )
_database["OPTIONS"]["connect_timeout"] = DB_CONNECT_TIMEOUT
if DB_STATEMENT_TIMEOUT_MS:
    _startup = f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"
    _existing = _database["OPTIONS"].get("options")
    _database["OPTIONS"]["options"] = f"{_existing} {_startup}" if _existing else _startup
_database.setdefault("TEST", {})
DATABASES = {"default": _database}

# --- Read replicas ------------------------------------------------------------
#
# DATABASE_REPLICA_URLS: zero or more comma-separated PostgreSQL URLs of hot standbys,
# each pooled like the primary (aliases replica1, replica2, ...). prosaas.db_router
# sends only the views marked ``replica_reads`` there (GETs of the intelligence
# screen and the CRM lists), and only while the replica's replay lag is within
# REPLICA_MAX_LAG_SECONDS (checked at most every REPLICA_LAG_CHECK_SECONDS per
# process). A user who wrote within REPLICA_READ_YOUR_WRITES_SECONDS reads from the
# primary; the time of the last write is kept in the default cache, which must be
# shared by all processes (CACHE_URL) for that to hold across processes. See
# docs/scaling.md.
from prosaas.replica_settings import parse_replica_urls, replica_databases  # noqa: E402

REPLICA_MAX_LAG_SECONDS = read_float(
    "REPLICA_MAX_LAG_SECONDS", default=5.0, minimum=0.1, maximum=3600
)
REPLICA_LAG_CHECK_SECONDS = read_float(
    "REPLICA_LAG_CHECK_SECONDS", default=2.0, minimum=0.1, maximum=60
)
REPLICA_READ_YOUR_WRITES_SECONDS = read_float(
    "REPLICA_READ_YOUR_WRITES_SECONDS", default=10.0, minimum=0, maximum=3600
)
REPLICA_CONNECT_TIMEOUT = read_int("REPLICA_CONNECT_TIMEOUT", default=2, minimum=1, maximum=60)
if 0 < REPLICA_READ_YOUR_WRITES_SECONDS < REPLICA_MAX_LAG_SECONDS:
    raise ImproperlyConfigured(
        f"REPLICA_READ_YOUR_WRITES_SECONDS={REPLICA_READ_YOUR_WRITES_SECONDS} is shorter "
        f"than REPLICA_MAX_LAG_SECONDS={REPLICA_MAX_LAG_SECONDS}: a user could read from a "
        "replica that has not yet replayed their own write."
    )
_replicas = replica_databases(
    parse_replica_urls(env.str("DATABASE_REPLICA_URLS", default="")),
    primary=_database,
    connect_timeout=REPLICA_CONNECT_TIMEOUT,
)
DATABASES.update(_replicas)
# The aliases the router may read from (round robin among the healthy ones).
DATABASE_REPLICA_ALIASES: list[str] = list(_replicas)
DATABASE_ROUTERS = ["prosaas.db_router.ReplicaRouter"]
# --- end read replicas ------------------------------------------------------------------

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Request query budget --------------------------------------------------------------
#
# A request running more SQL queries than this is logged as a warning naming its view
# (prosaas/query_metrics.py). The API's endpoints run 3 to a handful; an N+1 on a list
# page runs dozens.
REQUEST_QUERY_BUDGET = read_int("REQUEST_QUERY_BUDGET", default=20, minimum=1, maximum=100_000)

# --- Health checks, metrics and slow queries ------------------------------
#
# /health/live and /health/ready are open (load balancers, Kubernetes); /metrics
# (Prometheus) answers a bearer METRICS_TOKEN or a client in METRICS_ALLOWED_NETWORKS
# (CIDRs, default loopback only; behind a proxy REMOTE_ADDR is the proxy's address).
# See prosaas/health.py, prosaas/monitoring.py and the README's monitoring section.
SLOW_QUERY_MS = read_int("SLOW_QUERY_MS", default=100, minimum=1, maximum=3_600_000)
HEALTH_DB_TIMEOUT = read_float("HEALTH_DB_TIMEOUT", default=2.0, minimum=0.1, maximum=30)
HEALTH_CHECK_CACHE_SECONDS = read_float(
    "HEALTH_CHECK_CACHE_SECONDS", default=10.0, minimum=0, maximum=3600
)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 16 characters long.")
METRICS_ALLOWED_NETWORKS = parse_networks(
    "METRICS_ALLOWED_NETWORKS", env.str("METRICS_ALLOWED_NETWORKS", default="127.0.0.1/32,::1/128")
)

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

# A Redis that is down or frozen must cost a request at most one of these timeouts
# (seconds; a small fraction of a request's budget, Redis answers in well under 1 ms),
# after which the caches skip it for CACHE_RETRY_INTERVAL seconds and the database
# answers (businesses/cache_backends.py: FailFastRedisCache).
CACHE_CONNECT_TIMEOUT = read_float("CACHE_CONNECT_TIMEOUT", default=0.1, minimum=0.001, maximum=30)
CACHE_SOCKET_TIMEOUT = read_float("CACHE_SOCKET_TIMEOUT", default=0.2, minimum=0.001, maximum=30)
CACHE_RETRY_INTERVAL = read_float("CACHE_RETRY_INTERVAL", default=1.0, minimum=0.0, maximum=300)

CACHE_URL = env.str("CACHE_URL", default="")
if CACHE_URL:
    _cache = env.cache_url("CACHE_URL")
    # django-environ lower-cases every query option for Django's RedisCache, also the
    # ones Django reads in upper case (?key_prefix=..., ?timeout=...): restore them.
    for _option in ("TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION"):
        if _option.lower() in _cache:
            _cache[_option] = _cache.pop(_option.lower())
    if _cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        _redis_options = _cache.setdefault("OPTIONS", {})
        for _option in ("socket_connect_timeout", "socket_timeout"):
            if _option in _redis_options:
                raise ImproperlyConfigured(
                    f"Set the Redis timeouts with CACHE_CONNECT_TIMEOUT and "
                    f"CACHE_SOCKET_TIMEOUT, not ?{_option}= in CACHE_URL."
                )
        _cache["BACKEND"] = "businesses.cache_backends.FailFastRedisCache"
        _redis_options.update(
            {
                "socket_connect_timeout": CACHE_CONNECT_TIMEOUT,
                "socket_timeout": CACHE_SOCKET_TIMEOUT,
                "unavailable_retry_interval": CACHE_RETRY_INTERVAL,
            }
        )
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

# Behind a transaction pooler the tenant caches must live in a store every process
# shares: a process-local one (local memory, whatever CACHE_URL spells it as, or files
# on one machine) is kept coherent over LISTEN/NOTIFY, which a transaction pooler
# cannot carry (the LISTEN lands on a server connection other clients then use).
# Turning the broadcast off does not help: changes made by other processes and by
# SQL would then never reach the process's cache.
_PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.filebased.FileBasedCache",
    "businesses.cache_backends.LRULocMemCache",
}
if DB_TRANSACTION_POOLER and BUSINESS_SETTINGS_CACHE_ENABLED:
    _local = sorted(
        alias
        for alias in ("business_settings", "memberships")
        if CACHES[alias]["BACKEND"] in _PROCESS_LOCAL_CACHES
    )
    if _local:
        raise ImproperlyConfigured(
            "DB_TRANSACTION_POOLER=true needs a cache shared by every process: set "
            f"CACHE_URL=redis://... (the {' and '.join(_local)} caches would be "
            f"{CACHES[_local[0]]['BACKEND']}, local to each process, kept coherent over "
            "LISTEN/NOTIFY, which a transaction pooler cannot carry), or turn the caches "
            "off with BUSINESS_SETTINGS_CACHE_ENABLED=false."
        )

# Read-your-writes keeps each user's last write time in the default cache;
# in local memory another process would not see it and could serve a stale replica.
if DATABASE_REPLICA_ALIASES and not CACHE_URL and REPLICA_READ_YOUR_WRITES_SECONDS > 0:
    raise ImproperlyConfigured(
        "DATABASE_REPLICA_URLS needs a shared cache for read-your-writes: set "
        "CACHE_URL=redis://... (or REPLICA_READ_YOUR_WRITES_SECONDS=0 to accept that a "
        "user may not see their own write for up to REPLICA_MAX_LAG_SECONDS)."
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

# --- Throttling of POST /api/auth/token/ -------------------------------------------------
#
# Password guessing is limited per client address and per username, counted in the
# default cache (shared by every process when CACHE_URL is Redis; per process otherwise).
NUM_PROXIES = read_int("NUM_PROXIES", default=0, minimum=0, maximum=10)
AUTH_TOKEN_RATE_PER_ADDRESS = read_rate("AUTH_TOKEN_RATE_PER_ADDRESS", default="30/minute")
AUTH_TOKEN_RATE_PER_USERNAME = read_rate("AUTH_TOKEN_RATE_PER_USERNAME", default="10/minute")

# --- Django REST framework -------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's TokenAuthentication, its one query compiled once.
        "prosaas.authentication.CompiledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "prosaas.pagination.KeysetPagination",
    "DEFAULT_FILTER_BACKENDS": ["prosaas.filters.StrictDjangoFilterBackend"],
    # drf-spectacular's, plus the error answers, X-Business-Id and bounds (prosaas/schema.py).
    "DEFAULT_SCHEMA_CLASS": "prosaas.schema.ErrorDocumentingAutoSchema",
    # Bodies deeper than 32 levels, with lone surrogates or repeated keys are a 400
    # before any view runs; oversized multipart a 413 (prosaas/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "prosaas.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "prosaas.parsers.StrictMultiPartParser",
    ],
    "EXCEPTION_HANDLER": "prosaas.exceptions.api_exception_handler",
    # The client address for throttling is REMOTE_ADDR, or with NUM_PROXIES > 0 the
    # address that many hops from the right of X-Forwarded-For. DRF's default (None)
    # would key on the whole header, which a client can vary at will.
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "token_address": AUTH_TOKEN_RATE_PER_ADDRESS,
        "token_username": AUTH_TOKEN_RATE_PER_USERNAME,
    },
    "DEFAULT_RENDERER_CLASSES": [
        # DRF's JSONRenderer output, written by orjson.
        "prosaas.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "PAGE_SIZE": 50,
}

# --- Request fast path -------------------------------------------------------
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
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # Phone patterns, and emails/URLs that may be "" (prosaas/schema.py).
        "prosaas.schema.describe_stored_values",
    ],
    # Three models have a `status` with different choices; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "crm.models.Lead.Status",
        "CallStatusEnum": "crm.models.CallLog.Status",
        "WhatsAppMessageStatusEnum": "crm.models.WhatsAppMessage.Status",
    },
}

# The browsable API for people (prosaas/browsable.py): an HTML form for
# PATCH-only views and descriptions as prose.
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [
    "prosaas.browsable.BrowsableAPIRenderer"
    if renderer == "rest_framework.renderers.BrowsableAPIRenderer"
    else renderer
    for renderer in REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"]
]
REST_FRAMEWORK["VIEW_DESCRIPTION_FUNCTION"] = "prosaas.browsable.view_description"

# The docs' JavaScript and CSS come from drf-spectacular-sidecar's static
# files, never from a CDN, so /api/docs/ and /api/redoc/ work offline.
SPECTACULAR_SETTINGS.update(
    {
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
    }
)

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

# --- HTTPS and cookies (`manage.py check --deploy` is clean with the README's env) -------
#
# Production defaults are the safe ones; development (DEBUG=true) serves plain HTTP.
# HSTS tells browsers to use HTTPS only, for SECURE_HSTS_SECONDS: start small (300)
# on a new domain, raise it to a year once HTTPS works everywhere.
SECURE_SSL_REDIRECT = read_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = read_int(
    "SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000, minimum=0, maximum=63_072_000
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = read_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = read_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = read_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = read_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# Behind a TLS-terminating proxy the request reaches us over HTTP. Trusting its
# X-Forwarded-Proto is safe only if the proxy overwrites whatever the client sent,
# so it is the operator's call; without it, SECURE_SSL_REDIRECT would redirect
# every proxied request (point the proxy's health checks at HTTPS or turn it off).
if read_bool("PROXY_SETS_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
