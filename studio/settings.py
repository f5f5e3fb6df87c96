"""Studio settings. Everything that differs between machines comes from environment variables.

The defaults are the single-machine set-up (`make run`): SQLite and a Celery broker that needs
no server, all under STUDIO_DATA_DIR. Production (docker-compose.yml) sets DATABASE_URL,
CELERY_BROKER_URL, STUDIO_SECRET_KEY, ALLOWED_HOSTS and DEBUG=false.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from studio.env import env_bool, env_int, env_list, env_size, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("STUDIO_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("STUDIO_SECRET_KEY", "")
if not SECRET_KEY and (DATA_DIR / "secret_key").is_file():
    # Written once by `make run` so a single-machine install keeps its sessions across restarts.
    SECRET_KEY = (DATA_DIR / "secret_key").read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("STUDIO_SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production-" + "x" * 20

# Fernet key for stored credentials (studio/crypto.py); derived from the secret key when unset.
STUDIO_ENCRYPTION_KEY = env_str("STUDIO_ENCRYPTION_KEY", "")
if STUDIO_ENCRYPTION_KEY:
    from cryptography.fernet import Fernet

    try:
        Fernet(STUDIO_ENCRYPTION_KEY.encode())
    except ValueError:
        raise ImproperlyConfigured(
            "STUDIO_ENCRYPTION_KEY must be a Fernet key (44 url-safe base64 characters)"
        ) from None

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "axes",
    "studio",
    "environments",
    "compute",
    "jobs",
    "datastores",
    "registry",
    "tracking",
    "sweeps",
    "pipelines",
    "endpoints",
    "django_celery_beat",
    "schedules",
]

MIDDLEWARE = [
    # First: a streaming response (a live log) gives its database connection back before it streams.
    "studio.stream_connections.ReleaseConnectionsForStreams",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so it turns a lockout flagged anywhere above into its 429 answer.
    "axes.middleware.AxesMiddleware",
    # Last: one thread hop per request under ASGI instead of two per middleware (see the module).
    "studio.sync_chain.SyncMiddlewareChain",
]

ROOT_URLCONF = "studio.urls"
ASGI_APPLICATION = "studio.asgi.application"
WSGI_APPLICATION = "studio.wsgi.application"

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
                "studio.context_processors.shell",
            ],
            "builtins": ["studio.templatetags.studio"],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'studio.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
    )
}
# A psycopg connection pool of at most this many connections, for the web process only: its
# entries set it (Procfile, docker-compose.yml). uvicorn runs every sync request in a new thread,
# and without a pool each request opens (and closes) its own PostgreSQL connection. Not for Celery
# workers (they fork: a pool's threads would not survive) nor management commands. 0: no pool.
DB_POOL_SIZE = env_int("STUDIO_DB_POOL_SIZE", 0, minimum=0)
if DB_POOL_SIZE and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfigured("STUDIO_DB_POOL_SIZE and DATABASE_CONN_MAX_AGE exclude each other: set one")
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(2, DB_POOL_SIZE),
        "max_size": DB_POOL_SIZE,
        # A request waits this long for a free connection, then fails (500) rather than hang.
        "timeout": env_int("STUDIO_DB_POOL_TIMEOUT", 10, minimum=1),
    }
    # Django then checks a connection (one round trip) as it leaves the pool: after a PostgreSQL
    # restart, a stale one is replaced instead of failing the request that drew it.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web server read while the worker writes logs.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "studio.lockout.LoginAttemptsBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "studio:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STUDIO_MANIFEST_STATIC", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = DATA_DIR / "media"

# Security: safe by default; `manage.py check --deploy` is clean with DEBUG off.
SECURE_SSL = env_bool("STUDIO_SECURE_SSL", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_SSL_REDIRECT = env_bool("STUDIO_SSL_REDIRECT", SECURE_SSL)
# X-Forwarded-Proto (and X-Forwarded-For for the sign-in limiter) is anyone's to send: believe it
# only when the administrator says a proxy in front sets it and strips what clients sent.
STUDIO_BEHIND_PROXY = env_bool("STUDIO_BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if STUDIO_BEHIND_PROXY else None
SECURE_HSTS_SECONDS = env_int("STUDIO_HSTS_SECONDS", 31536000 if SECURE_SSL else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
# Preload lists are hard to leave: only when the administrator asks for it.
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0 and env_bool("STUDIO_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from our static files, or inline with the
# per-response nonce (`<script nonce="{{ request.csp_nonce }}">`); no eval, so no htmx `hx-on`.
# Inline styles stay allowed (style attributes in templates, htmx's indicator styles).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
    }
}
# Addresses members give (attached Docker engines, datastore endpoints, https:// inputs) may not
# lead to loopback, private or link-local addresses unless allowed here (studio/netcheck.py).
STUDIO_ALLOW_PRIVATE_URLS = env_bool("STUDIO_ALLOW_PRIVATE_URLS", False)
STUDIO_PRIVATE_URL_NETWORKS = env_list("STUDIO_PRIVATE_URL_NETWORKS", [])
try:
    [ipaddress.ip_network(net, strict=False) for net in STUDIO_PRIVATE_URL_NETWORKS]
except ValueError as exc:
    raise ImproperlyConfigured(f"STUDIO_PRIVATE_URL_NETWORKS: {exc}") from None
# Sign-in rate limiting (django-axes): after STUDIO_LOGIN_FAILURE_LIMIT failed sign-ins for one
# username from one address (login page or HTTP Basic on the token endpoint), that pair is refused
# with 429 for STUDIO_LOGIN_COOLOFF_MINUTES. `manage.py axes_reset` unlocks everyone at once.
AXES_FAILURE_LIMIT = env_int("STUDIO_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("STUDIO_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "studio.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "studio.lockout.client_ip"
AXES_VERBOSE = False
SILENCED_SYSTEM_CHECKS = env_list("STUDIO_SILENCED_CHECKS", [])
if SECURE_HSTS_SECONDS and not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")  # preload is off on purpose (STUDIO_HSTS_PRELOAD)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "studio.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # One body reader for every API (studio/api/body.py): JSON, YAML, multipart, forms, all checked.
    "DEFAULT_PARSER_CLASSES": [
        "studio.api.body.JSONBodyParser",
        "studio.api.body.YAMLBodyParser",
        "studio.api.body.TextYAMLBodyParser",
        "studio.api.body.XYAMLBodyParser",
        "studio.api.body.MultiPartBodyParser",
        "studio.api.body.FormBodyParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "studio.api.pagination.StudioPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "studio.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Studio API",
    "DESCRIPTION": "Workspaces, members, roles, environments, compute, jobs and data of a Studio server.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "jobs.models.JobStatus",
        "BackendEnum": "compute.models.Backend",
        "DataTypeEnum": "datastores.models.DataVersion.Type",
        "ModelTypeEnum": "registry.models.ModelVersion.Type",
    },
}

# Celery: a serverless broker (SQLite through SQLAlchemy) unless CELERY_BROKER_URL says otherwise.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", f"sqla+sqlite:///{DATA_DIR / 'broker.sqlite3'}")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "studio"
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Beat keeps its schedule in the database (django-celery-beat): the periodic tasks below are copied
# into it when beat starts, and the schedules app adds one PeriodicTask per member's schedule.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE = {
    "purge-old-tokens": {"task": "studio.tasks.purge_old_tokens", "schedule": 3600.0},
    # Deployment instances: restart dead ones, mark started ones ready (endpoints/instances.py).
    "reconcile-endpoint-instances": {"task": "endpoints.tasks.reconcile_instances", "schedule": 5.0},
}

STUDIO_TOKEN_PREFIX = "stu_"
STUDIO_DEFAULT_WORKSPACE = env_str("STUDIO_DEFAULT_WORKSPACE", "default")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # alembic (loaded with Optuna's storage, sweeps.engine) announces its plugins at INFO on import.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "alembic": {"level": "WARNING"}},
}

# --- e-mail (job-end notices users opt into); Django's own settings, read from the environment.
# Without EMAIL_HOST nothing leaves the machine: mails are written to the worker's log.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Studio <studio@localhost>")

# --- jobs ---
# Where workers stage jobs, where code snapshots and job outputs are kept, and the URL a job's
# MLflow client calls back. On several machines, STUDIO_DATA_DIR (or these two stores) is shared.
STUDIO_PUBLIC_URL = env_str("STUDIO_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
STUDIO_JOBS_DIR = Path(env_str("STUDIO_JOBS_DIR", str(DATA_DIR / "jobs"))).resolve()
STUDIO_CODE_DIR = Path(env_str("STUDIO_CODE_DIR", str(DATA_DIR / "codes"))).resolve()
STUDIO_ARTIFACTS_DIR = Path(env_str("STUDIO_ARTIFACTS_DIR", str(DATA_DIR / "artifacts"))).resolve()
STUDIO_CODE_MAX_BYTES = env_int("STUDIO_CODE_MAX_BYTES", 512 * 1024 * 1024, minimum=1024)
STUDIO_CODE_MAX_FILES = env_int("STUDIO_CODE_MAX_FILES", 20000, minimum=1)
STUDIO_JOB_HEARTBEAT_SECONDS = env_int("STUDIO_JOB_HEARTBEAT_SECONDS", 5, minimum=1)
# A running job whose runner has not heart-beaten for this long is failed with "node lost".
STUDIO_JOB_LOST_AFTER_SECONDS = env_int("STUDIO_JOB_LOST_AFTER_SECONDS", 60, minimum=2)

# --- sweeps ---
# Trials' intermediate metrics are read and pruned every STUDIO_SWEEP_CHECK_SECONDS.
STUDIO_SWEEP_CHECK_SECONDS = env_int("STUDIO_SWEEP_CHECK_SECONDS", 5, minimum=1)
CELERY_BEAT_SCHEDULE["sweeps-check-trials"] = {
    "task": "sweeps.tasks.check_sweeps",
    "schedule": float(STUDIO_SWEEP_CHECK_SECONDS),
}
# --- pipelines ---
# Steps whose end was not heard (a process died between the commit and the hook) are picked up.
CELERY_BEAT_SCHEDULE["pipelines-check"] = {"task": "pipelines.tasks.check_pipelines", "schedule": 15.0}
STUDIO_JOB_MAX_SECONDS = env_int("STUDIO_JOB_MAX_SECONDS", 7 * 24 * 3600, minimum=60)
# Processes (threads included) one docker job may have at once: a fork bomb stops there.
STUDIO_JOB_PIDS_LIMIT = env_int("STUDIO_JOB_PIDS_LIMIT", 4096, minimum=16)
STUDIO_JOB_KEEP_WORKDIR = env_bool("STUDIO_JOB_KEEP_WORKDIR", False)
# The reapers run in `manage.py studio_reaper` (Procfile, docker-compose), not under beat: a task
# needs a live worker, and the reaper matters most when every worker is dead.
STUDIO_REAPER_INTERVAL_SECONDS = env_int("STUDIO_REAPER_INTERVAL_SECONDS", 5, minimum=1)

# --- online endpoints ---
# Instances of online deployments (scoring servers) run under this folder on each node.
STUDIO_ENDPOINTS_DIR = Path(env_str("STUDIO_ENDPOINTS_DIR", str(DATA_DIR / "endpoints"))).resolve()
# A node's instances listen on this address, and the router calls them there: loopback (one
# machine) by default; a node on another machine advertises an address the web process reaches.
STUDIO_NODE_ADDRESS = env_str("STUDIO_NODE_ADDRESS", "127.0.0.1")
try:
    ipaddress.ip_address(STUDIO_NODE_ADDRESS)
except ValueError:
    raise ImproperlyConfigured(f"STUDIO_NODE_ADDRESS={STUDIO_NODE_ADDRESS!r} is not an IP address") from None
# How often each node's worker places and keeps its deployment instances (endpoints.node_keeper).
STUDIO_ENDPOINTS_RECONCILE_SECONDS = env_int("STUDIO_ENDPOINTS_RECONCILE_SECONDS", 1, minimum=1)
# A scoring request's body is refused (413) above this many bytes.
STUDIO_SCORE_MAX_BYTES = env_int("STUDIO_SCORE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
STUDIO_SCORE_TIMEOUT_SECONDS = env_int("STUDIO_SCORE_TIMEOUT_SECONDS", 60, minimum=1)
# How long a router process trusts what it cached of an endpoint (keys, traffic, ready instances);
# a change made in this process is seen at once, one made elsewhere within this time.
STUDIO_ROUTER_CACHE_MS = env_int("STUDIO_ROUTER_CACHE_MS", 1000, minimum=0)
# Width of a metrics interval: the router adds up requests in memory and writes one row per
# deployment per interval.
STUDIO_ENDPOINT_METRICS_SECONDS = env_int("STUDIO_ENDPOINT_METRICS_SECONDS", 10, minimum=1)
# Mirrored requests kept per endpoint for the comparison (the oldest are dropped).
STUDIO_MIRROR_KEEP = env_int("STUDIO_MIRROR_KEEP", 500, minimum=10)

# --- datastores ---
# Built-in datastores (workspaceblobstore, ...) are folders under STUDIO_DATASTORES_ROOT, unless
# STUDIO_BUILTIN_STORE names an object store (s3://bucket/prefix or az://container/prefix) that
# production keeps them in; its endpoint and credentials come from the variables after it.
STUDIO_DATASTORES_ROOT = Path(env_str("STUDIO_DATASTORES_ROOT", str(DATA_DIR / "datastores"))).resolve()
STUDIO_BUILTIN_STORE = env_str("STUDIO_BUILTIN_STORE", "").strip()
if STUDIO_BUILTIN_STORE and not STUDIO_BUILTIN_STORE.startswith(("s3://", "az://", "abfs://")):
    raise ImproperlyConfigured("STUDIO_BUILTIN_STORE must be empty, s3://bucket[/prefix] or az://container[/prefix]")
STUDIO_BUILTIN_STORE_ENDPOINT = env_str("STUDIO_BUILTIN_STORE_ENDPOINT", "")
STUDIO_BUILTIN_STORE_REGION = env_str("STUDIO_BUILTIN_STORE_REGION", "")
STUDIO_BUILTIN_STORE_ACCOUNT = env_str("STUDIO_BUILTIN_STORE_ACCOUNT", "")
STUDIO_BUILTIN_STORE_KEY = env_str("STUDIO_BUILTIN_STORE_KEY", "")
STUDIO_BUILTIN_STORE_SECRET = env_str("STUDIO_BUILTIN_STORE_SECRET", "")
# Local/NFS folder datastores may only point inside these folders (comma-separated).
# Each root holds one folder per workspace (<root>/<workspace>/…): a workspace registers folders in
# its own only. Folders under STUDIO_SHARED_DATASTORE_ROOTS are open to every workspace.
STUDIO_LOCAL_DATASTORE_ROOTS = env_list("STUDIO_LOCAL_DATASTORE_ROOTS", [str(DATA_DIR / "folders")])
STUDIO_SHARED_DATASTORE_ROOTS = env_list("STUDIO_SHARED_DATASTORE_ROOTS", [])
STUDIO_STORAGE_BLOCK_SIZE = env_int("STUDIO_STORAGE_BLOCK_SIZE", 8 * 2**20, minimum=64 * 1024)
# The largest single MLflow artifact upload (streamed to storage, never held in memory).
STUDIO_MLFLOW_MAX_ARTIFACT_BYTES = env_int("STUDIO_MLFLOW_MAX_ARTIFACT_BYTES", 20 * 2**30, minimum=1024)
STUDIO_STORAGE_TIMEOUT = env_int("STUDIO_STORAGE_TIMEOUT", 10, minimum=1)
# A member's write into a datastore on this machine's disk (uploads, model zips, MLflow artifacts)
# must leave this much free on that file system, for the jobs, logs and database every member
# shares (datastores/reserve.py); 0 turns the check off. Object stores are not checked.
STUDIO_STORAGE_RESERVE = env_size("STUDIO_STORAGE_RESERVE", 2 * 2**30)
# Data assets may point at https:// URLs; plain http:// only when this is on (tests, labs).
STUDIO_DATA_ALLOW_HTTP = env_bool("STUDIO_DATA_ALLOW_HTTP", False)
# Folder uploads send one part per file.
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("STUDIO_MAX_UPLOAD_FILES", 1000, minimum=1)
LOGGING["filters"] = {**LOGGING.get("filters", {}), "mask_secrets": {"()": "datastores.masking.MaskSecrets"}}
LOGGING["handlers"]["console"]["filters"] = [*LOGGING["handlers"]["console"].get("filters", []), "mask_secrets"]
LOGGING["loggers"].update(
    {"azure": {"level": "WARNING"}, "botocore": {"level": "WARNING"}, "s3fs": {"level": "WARNING"}}
)

# --- environments ---
# Base image of conda/pip environments built on the docker backend (never pulled: it must be in
# the engine). CI uses studio/base:bookworm, built from Debian packages by .ci/base-image.sh.
STUDIO_BASE_IMAGE = env_str("STUDIO_BASE_IMAGE", "python:3.11-slim-bookworm")
# A CA bundle the network needs for package downloads; passed to uv and copied into docker builds.
STUDIO_CA_BUNDLE = env_str("STUDIO_CA_BUNDLE", "")
if STUDIO_CA_BUNDLE and not Path(STUDIO_CA_BUNDLE).is_file():
    raise ImproperlyConfigured(f"STUDIO_CA_BUNDLE={STUDIO_CA_BUNDLE!r} is not a file")
STUDIO_ENV_DIR = Path(env_str("STUDIO_ENV_DIR", str(DATA_DIR / "envs"))).resolve()
STUDIO_UV_CACHE = Path(env_str("STUDIO_UV_CACHE", str(DATA_DIR / "uv-cache"))).resolve()
STUDIO_BUILD_TIMEOUT = env_int("STUDIO_BUILD_TIMEOUT", 3600, minimum=30)
STUDIO_BUILD_CONTEXT_MAX_BYTES = env_int("STUDIO_BUILD_CONTEXT_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)

# --- the sandbox (compute/sandbox.py) ---
# User code runs under bubblewrap. Where it cannot (no bwrap, no user namespaces) a node runs no
# user code unless this allows it unsandboxed (a single-user laptop); pages and logs then say so.
STUDIO_BWRAP = env_str("STUDIO_BWRAP", "bwrap")
STUDIO_ALLOW_UNSANDBOXED = env_bool("STUDIO_ALLOW_UNSANDBOXED", False)
# Names this install's job containers (label studio.install), so that leftover cleanup never
# touches another Studio's containers on a shared Docker engine. Every node of one install derives
# the same id from the shared secret key unless it is set.
STUDIO_INSTALL_ID = (
    env_str("STUDIO_INSTALL_ID", "") or hashlib.sha256(f"studio-install:{SECRET_KEY}".encode()).hexdigest()[:16]
)

# --- compute ---
# Nodes heart-beat every STUDIO_NODE_HEARTBEAT_SECONDS; one silent for STUDIO_NODE_UNREACHABLE_SECONDS
# is marked Unreachable by the reaper (and its jobs failed with "node lost").
STUDIO_NODE_HEARTBEAT_SECONDS = env_int("STUDIO_NODE_HEARTBEAT_SECONDS", 5, minimum=1)
STUDIO_NODE_UNREACHABLE_SECONDS = env_int("STUDIO_NODE_UNREACHABLE_SECONDS", 30, minimum=2)
if STUDIO_NODE_UNREACHABLE_SECONDS < 2 * STUDIO_NODE_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "STUDIO_NODE_UNREACHABLE_SECONDS must be at least twice STUDIO_NODE_HEARTBEAT_SECONDS, "
        f"not {STUDIO_NODE_UNREACHABLE_SECONDS} (heartbeat every {STUDIO_NODE_HEARTBEAT_SECONDS} s)"
    )
# Optional autoscaler hook: run as `<command> <desired node count>` (target in STUDIO_COMPUTE_* env
# vars) whenever a cluster's or instance's desired node count changes. Empty: Studio only shows it.
STUDIO_SCALER_COMMAND = env_str("STUDIO_SCALER_COMMAND", "")
STUDIO_SCALER_TIMEOUT_SECONDS = env_int("STUDIO_SCALER_TIMEOUT_SECONDS", 60, minimum=1)
# The built-in local scaler (compute.local_scaler): the local queue's worker starts and stops
# `studio_worker` processes for clusters and instances on this machine. `make run` turns it on;
# a STUDIO_SCALER_COMMAND, when set, takes its place.
STUDIO_LOCAL_SCALER = env_bool("STUDIO_LOCAL_SCALER", False)
STUDIO_LOCAL_SCALER_SECONDS = env_int("STUDIO_LOCAL_SCALER_SECONDS", 3, minimum=1)
# At most this many node processes in all (any member with compute.manage sizes clusters).
STUDIO_LOCAL_SCALER_MAX_NODES = env_int("STUDIO_LOCAL_SCALER_MAX_NODES", max(2, (os.cpu_count() or 1) * 2), minimum=1)
CELERY_BEAT_SCHEDULE["compute-autoscale"] = {
    "task": "compute.tasks.autoscale",
    "schedule": 15.0,
    "options": {"expires": 15},
}
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["EnvironmentBuildStatusEnum"] = (
    "environments.models.BuildStatus"
)
