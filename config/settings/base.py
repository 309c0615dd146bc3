"""Settings shared by every footprint. Everything that differs between machines comes from the
environment: DATABASE_URL, REDIS_URL, SECRET_KEY, FIELD_ENCRYPTION_KEY, DEBUG, ALLOWED_HOSTS."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("PARTYEDU_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "partyedu.core",
    "partyedu.accounts",
    "partyedu.organizations",
    "partyedu.members",
    "partyedu.study",
    "partyedu.learning",
    "partyedu.lectures",
    "partyedu.competitions",
    "partyedu.exams",
    "partyedu.service",
    "partyedu.supervision",
    "partyedu.points",
    "partyedu.appraisal",
    "partyedu.development",
    "partyedu.api",
    "partyedu.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "partyedu.core.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "partyedu.accounts.middleware.OtpRequiredMiddleware",
    "partyedu.accounts.middleware.PasswordExpiryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "partyedu.core.middleware.RequestContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "partyedu.core.context_processors.navigation",
            ],
        },
    }
]

# --- Database: SQLite file under var/ unless DATABASE_URL says otherwise -------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'partyedu.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # One bounded pool per process instead of a persistent connection per thread: a threaded
    # server (or a burst of requests) can never hold more than DB_POOL_MAX_SIZE connections per
    # process. Size it so that processes × DB_POOL_MAX_SIZE (web workers, job workers, the
    # scheduler) stays below the server's max_connections; docs/security.md has the sum.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # pooled connections go back to the pool instead
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 1),
        "max_size": env_int("DB_POOL_MAX_SIZE", 4),
        # Seconds a request waits for a free connection before failing instead of queueing forever.
        "timeout": env_int("DB_POOL_TIMEOUT", 10),
        "max_idle": 300,
    }
    # PostgreSQL's JIT compiles a query whose estimated cost is high before running it: on the
    # city-wide aggregates (the points distribution at 100,000 members) compiling took ~1 s of a
    # query that runs in ~0.2 s. Off for this short-query workload unless DB_JIT=1.
    if not env_int("DB_JIT", 0):
        DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: Redis when REDIS_URL is set, in-process otherwise --------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth ---------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "partyedu.accounts.backends.UsernameOrMobileBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "partyedu.accounts.validators.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 8)},
    },
    {
        "NAME": "partyedu.accounts.validators.CharacterClassValidator",
        "OPTIONS": {"min_classes": env_int("PASSWORD_MIN_CLASSES", 3)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Days after which a password must be changed (等保: periodic change); 0 turns it off.
PASSWORD_MAX_AGE_DAYS = env_int("PASSWORD_MAX_AGE_DAYS", 90)

# Lockout after repeated failures (django-axes), per account: a registered mobile number counts
# for the account it belongs to (partyedu.accounts.throttle.axes_username).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "partyedu.accounts.throttle.axes_username"
AXES_CLIENT_IP_CALLABLE = "partyedu.accounts.throttle.axes_client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "partyedu.accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# The audit log records every sign-in; axes' own access log would also force a session (row and
# cookie) onto every API token exchange.
AXES_DISABLE_ACCESS_LOG = True
# Failures from one source address, whatever accounts they name, before the address is refused
# for LOGIN_LOCKOUT_MINUTES. Higher than the per-account limit: an office shares one address.
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 30)
# Progressive delay per account: after more than LOGIN_DELAY_FREE_FAILURES failures, the next
# attempt waits BASE, 2×BASE, 4×BASE … seconds (at most MAX) before it is even checked.
LOGIN_DELAY_FREE_FAILURES = env_int("LOGIN_DELAY_FREE_FAILURES", 2)
LOGIN_DELAY_BASE_SECONDS = env_int("LOGIN_DELAY_BASE_SECONDS", 2)
LOGIN_DELAY_MAX_SECONDS = env_int("LOGIN_DELAY_MAX_SECONDS", 60)

# Two-factor sign-in (TOTP, django-otp). Roles that must use it: a role code, or "code@root" for
# the role held at a root organisation only (the city level). Others may turn it on themselves.
OTP_REQUIRED_ROLES = [
    r.strip()
    for r in os.environ.get("OTP_REQUIRED_ROLES", "sysadmin,secadmin,auditor,org_admin@root").split(",")
    if r.strip()
]
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "党员教育培训管理平台")
# Codes are accepted one step (30 s) either side of the server clock, and that window does not
# move: learning a drift from accepted codes would let a run of early codes shift it for good.
OTP_TOTP_SYNC = False
# Sessions signed in through these backends count as verified. Only the test settings set it
# (client.force_login); production leaves it empty.
OTP_VERIFIED_SESSION_BACKENDS: list[str] = []

# API tokens: a token dies API_TOKEN_LIFETIME_HOURS after it was issued, or after
# API_TOKEN_IDLE_HOURS without use, whichever comes first.
API_TOKEN_LIFETIME_HOURS = env_int("API_TOKEN_LIFETIME_HOURS", 7 * 24)
API_TOKEN_IDLE_HOURS = env_int("API_TOKEN_IDLE_HOURS", 8)

# Idle sessions end after SESSION_IDLE_MINUTES (the cookie is renewed on every request).
SESSION_COOKIE_AGE = 60 * env_int("SESSION_IDLE_MINUTES", 30)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"
)

# --- Personal data -----------------------------------------------------------------------------------
# Fernet keys (comma-separated; the first encrypts, all decrypt, so keys can be rotated).
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")

# --- i18n ---------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploads ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
# Uploaded files and job results: a directory every application server shares (a local disk for
# one server, NFS for several), or an S3-compatible object store (MinIO, Ceph, a cloud's) when
# MEDIA_S3_BUCKET is set. Either way files are only ever served through views that check scope.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or VAR_DIR / "media")
MEDIA_S3_BUCKET = os.environ.get("MEDIA_S3_BUCKET", "")
if MEDIA_S3_BUCKET:
    _s3_endpoint = os.environ.get("MEDIA_S3_ENDPOINT_URL") or None
    # Self-hosted stores are addressed by path (the bucket in the path, not in the host name).
    _s3_style = os.environ.get("MEDIA_S3_ADDRESSING_STYLE") or ("path" if _s3_endpoint else None)
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": _s3_endpoint,
            "access_key": os.environ.get("MEDIA_S3_ACCESS_KEY") or None,
            "secret_key": os.environ.get("MEDIA_S3_SECRET_KEY") or None,
            "region_name": os.environ.get("MEDIA_S3_REGION") or None,
            "location": os.environ.get("MEDIA_S3_PREFIX", ""),
            "addressing_style": _s3_style,
            "signature_version": "s3v4",
            # As on a disk: a second file of the same name gets a new name, never replaces the first.
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
        },
    }
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A list export of more members than this runs as a background job with a progress page; smaller
# ones download at once.
EXPORT_SYNC_MAX_ROWS = env_int("EXPORT_SYNC_MAX_ROWS", 2000)
# Largest spreadsheet accepted by imports.
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_MB", 10) * 1024 * 1024
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 50_000)
# Files of more rows are checked and imported as background jobs with a progress page.
IMPORT_JOB_MIN_ROWS = env_int("IMPORT_JOB_MIN_ROWS", 2_000)
# What an xlsx may expand to, and how many cells its sheet rectangle may hold (A1 to the furthest
# cell): both are checked before parsing, so a hostile file is refused in milliseconds.
IMPORT_MAX_XLSX_EXPANDED_BYTES = env_int("IMPORT_MAX_XLSX_EXPANDED_MB", 64) * 1024 * 1024
IMPORT_MAX_CELLS = env_int("IMPORT_MAX_CELLS", 2_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- API ----------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "partyedu.accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies are measured for nesting depth before parsing (a deep body is 400, not 500).
    "DEFAULT_PARSER_CLASSES": [
        "partyedu.core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "partyedu.core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "partyedu.core.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PartyEdu API — 党员教育培训管理平台",
    "DESCRIPTION": "REST API for the mobile app and other systems. Every endpoint is scoped to the caller's roles.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Intranet: no badge fetched from the public validator service.
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets whose field names recur across the supervision serializers (status, kind,
    # target_level): one named enum each.
    "ENUM_NAME_OVERRIDES": {
        "OrgLevelEnum": "partyedu.organizations.choices.OrgLevel",
        "ResourceKindEnum": "partyedu.learning.choices.ResourceKind",
        "ReportStatusEnum": "partyedu.supervision.models.reports.ReportStatus",
        "ReportEventKindEnum": "partyedu.supervision.models.reports.ReportEventKind",
        "DispatchTargetEnum": "partyedu.supervision.models.dispatch.DispatchTarget",
        "DispatchStatusEnum": "partyedu.supervision.models.dispatch.DispatchStatus",
        "SchemeStatusEnum": "partyedu.supervision.models.assessment.SchemeStatus",
        "IndicatorKindEnum": "partyedu.supervision.models.assessment.IndicatorKind",
        "AssessmentMetricEnum": "partyedu.supervision.models.assessment.AssessmentMetric",
        "AssessmentRuleEnum": "partyedu.supervision.models.assessment.AssessmentRule",
        "InspectionKindEnum": "partyedu.supervision.models.guidance.InspectionKind",
        "RectificationStatusEnum": "partyedu.supervision.models.guidance.RectificationStatus",
        "RectificationEventKindEnum": "partyedu.supervision.models.guidance.RectificationEventKind",
        "TalkKindEnum": "partyedu.service.choices.TalkKind",
    },
    # The error answers every operation can give (401/403/404/429, 400 with input) in our shape.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "partyedu.core.api.schema.add_error_responses",
    ],
}

# --- Background jobs -------------------------------------------------------------------------------
# Celery with a broker when one is configured; otherwise jobs run in a thread of the process that
# queued them, after its transaction commits (the embedded default needs nothing more).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
JOBS_BACKEND = os.environ.get("JOBS_BACKEND", "celery" if CELERY_BROKER_URL else "thread")
# A running job whose heartbeat is older than this is taken to be dead (requeued or failed).
JOB_STALE_SECONDS = env_int("JOB_STALE_SECONDS", 120)
JOB_KEEP_DAYS = env_int("JOB_KEEP_DAYS", 7)
IMPORT_UPLOAD_KEEP_HOURS = env_int("IMPORT_UPLOAD_KEEP_HOURS", 24)
# Monthly partitions of the audit log (PostgreSQL) created ahead by the nightly housekeeping.
AUDIT_PARTITION_MONTHS_AHEAD = env_int("AUDIT_PARTITION_MONTHS_AHEAD", 3)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE = {
    "reap-jobs": {
        "task": "partyedu.core.tasks.reap_jobs_task",
        "schedule": float(env_int("JOB_REAP_SECONDS", 60)),
    },
    "housekeeping": {"task": "partyedu.core.tasks.housekeeping_task", "schedule": 24 * 3600.0},
    # Per-minute steps, e.g. exam attempts whose time is up are submitted and graded.
    "frequent": {"task": "partyedu.core.tasks.frequent_task", "schedule": 60.0},
}

# --- Response headers ------------------------------------------------------------------------------
# Scripts only from this site and never inline (every script is a file under static/), no plugins,
# no framing, forms post only here. Inline style attributes stay allowed: Bootstrap and HTMX use them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "media-src": ["'self'", "blob:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features the platform never uses are switched off for it and anything it embeds.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(self), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# --- Notifications (partyedu/core/notifications.py) ------------------------------------------------
# The in-app centre always has every notification; a user's preference may also send it out by email
# or SMS. Email goes through Django's framework: the console in the embedded default, SMTP when
# EMAIL_BACKEND / EMAIL_HOST are set. SMS goes to the log (number masked) unless a gateway backend
# is configured. Nothing here calls outside the site unless configured to.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "partyedu@localhost")
PARTYEDU_NOTIFY_BACKENDS = {
    "email": "partyedu.core.notifications.EmailChannel",
    "sms": "partyedu.core.notifications.SmsChannel",
}
PARTYEDU_SMS_BACKEND = os.environ.get("SMS_BACKEND", "partyedu.core.notifications.LogSmsBackend")
PARTYEDU_NOTIFY_DEFAULT_CHANNEL = "none"
# Links in outbound messages are made absolute with this (e.g. https://dangjian.example.gov.cn).
PARTYEDU_SITE_URL = os.environ.get("SITE_URL", "")

# Demo seeding is allowed except in production settings.
ALLOW_DEMO_SEED = True

# Lockout is per account (等保: per user), not per address: a whole office often shares one address.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# How many reverse proxies put X-Forwarded-For in front of us (0: trust only REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# QR check-in: how long after its 30-second slot ended a scanned code is still accepted, judged at
# the time the scan reached us (partyedu/study/checkin.py; at most 120).
CHECKIN_GRACE_SECONDS = env_int("CHECKIN_GRACE_SECONDS", 30)
