"""Settings, read from environment variables (django-environ).

Defaults run on a laptop: SQLite in the project folder, Celery tasks inline, DEBUG on.
- DATABASE_URL   postgres://user@host:5432/db switches to PostgreSQL
- REDIS_URL      redis://host:6379/0 makes Redis the Celery broker, result backend and cache
- YFBZ_PRODUCTION=1 turns on production mode: DEBUG off, SECRET_KEY required, secure cookies, HSTS.
See docs/deployment.md for every variable.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

PRODUCTION = env.bool("YFBZ_PRODUCTION", default=False)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")  # fails loudly when missing
    if len(SECRET_KEY) < 50:
        raise environ.ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production-0123456789abcdef")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "yfbz.core.adminsite.YfbzAdminConfig",  # django.contrib.admin with a lighter every-page context
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "import_export",
    "yfbz.core.auditlog_app.AuditTrailConfig",  # django-auditlog, named 审计日志
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_celery_beat",
    "yfbz.core",
    "yfbz.areas",
    "yfbz.policy",
    "yfbz.files",
    "beneficiaries",
    "claims",
    "funding",
    "adoption",
    "reporting",
    "monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "yfbz.core.memo.RequestMemoMiddleware",  # small reference tables read once per page (issue 14)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yfbz.core.sessions.IdleRenewal",  # the idle timeout's renewal, at most once a minute (not every request)
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "yfbz.core.middleware.LoginRequiredEverywhere",
    "yfbz.core.passwords.PasswordPolicyMiddleware",
    "yfbz.core.secondfactor.SecondFactorMiddleware",
    "yfbz.core.middleware.ReadOnlyRoles",
    "yfbz.core.params.BadRequestMiddleware",
    "yfbz.core.middleware.ConflictMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

if PRODUCTION:  # serves collected static files without a separate web server
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "yfbz.urls"
WSGI_APPLICATION = "yfbz.wsgi.application"

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
                "yfbz.core.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# a web or Celery process keeps its connection between requests for this many seconds (a new PostgreSQL
# connection per request cost ~4 ms and a server process fork each time: issue 14); checked before reuse
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# 等保2.0 level 3 (docs/security.md): at least 10 characters of three kinds, not the username, not a
# common password; changed at the first login and every 90 days (yfbz/core/passwords.py)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "yfbz.core.passwords.CharacterKindsValidator", "OPTIONS": {"kinds": 3}},
    {"NAME": "yfbz.core.passwords.NotUsernameValidator"},
]
YFBZ_PASSWORD_MAX_AGE_DAYS = env.int("YFBZ_PASSWORD_MAX_AGE_DAYS", default=90)

# Login throttling (django-axes): 5 failures within 15 minutes lock the account and, separately, the
# address for 30 minutes (a sliding window: yfbz/core/lockout.py); the page says so in Chinese; the
# security administrator unlocks in the admin.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "yfbz.core.lockout.SlidingWindowHandler"  # 5 failures within 15 minutes, not a running count
AXES_FAILURE_LIMIT = 5
YFBZ_LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the lock ends 30 minutes after it began
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "yfbz.core.auth_views.locked_out"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("AXES_IPWARE_PROXY_COUNT", default=0)  # 1 behind one reverse proxy

# A second factor (django-otp TOTP) for the roles that move money or grant access: on by default in
# production mode; `./dev serve` leaves it off and says so (yfbz/core/secondfactor.py)
YFBZ_OTP_REQUIRED = env.bool("YFBZ_OTP_REQUIRED", default=PRODUCTION)
OTP_TOTP_ISSUER = env.str("YFBZ_SITE_TITLE", default="渝北区医疗救助管理系统")

LANGUAGE_CODE = "zh-hans"
# the only language: LocaleMiddleware chose the browser's (an en-US browser got the admin, Django's form errors
# and its dates in English)
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

# Uploaded files (rosters, settlement files, scanned papers) are kept in the database
# (BinaryField on the upload's own row), so every web process and Celery worker on any
# host reads them through PostgreSQL. Generated files that are not kept (PDF batches,
# xlsx exports) are built on demand. MEDIA_* is only used if a deployment configures an
# object store through STORAGES (django-storages); see docs/deployment.md.
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": env.str("DEFAULT_FILE_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage")},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 200 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Redis: Celery broker and cache -------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CELERY_BROKER_URL = "memory://localhost/"  # with a host name kombu does not warn on every send
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message for another worker
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
# periodic jobs (celery beat): the audit trail's hash chain is extended every minute; the schedule
# lives in the database (django-celery-beat: `celery -A yfbz beat -S django`), where the nightly
# verify_books row is data (yfbz/core/migrations, editable by the administrator)
CELERY_BEAT_SCHEDULE = {
    "seal-audit-trail": {"task": "core.seal_audit_trail", "schedule": 60.0},
    # a queued job whose message the broker lost (restarted empty, a send that failed) is sent again
    "resend-lost-jobs": {"task": "core.resend_lost_jobs", "schedule": 120.0},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_ACCEPT_CONTENT = ["json"]
# people per committed batch of a subsidy run (a rerun resumes after the last committed batch)
SUBSIDY_BATCH_SIZE = env.int("SUBSIDY_BATCH_SIZE", default=5000)
SUBSIDY_PART_SIZE = env.int("SUBSIDY_PART_SIZE", default=25_000)  # people per part task of the run (issue 14)
# settlement lines per part of a one-stop file's audit (a Celery chord of parts, all of a person's lines in one)
SETTLEMENT_PART_LINES = env.int("SETTLEMENT_PART_LINES", default=10000)
# rows up to which every list's download is built in the request, replacing each kind's measured limit
# (yfbz.core.exports; unset in production: a walk of the job path on the demo data sets it low)
YFBZ_EXPORT_INLINE_ROWS = env.int("YFBZ_EXPORT_INLINE_ROWS", default=None)

# --- Security -----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# a session ends after 30 minutes without a request (等保: 登录连接超时自动退出)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=1800)
# renewed by yfbz.core.sessions.IdleRenewal when the expiry is over SESSION_RENEW_AFTER seconds behind a fresh
# one (not SESSION_SAVE_EVERY_REQUEST: a write per page view): a session ends 29–30 minutes after its last request
SESSION_ENGINE = "yfbz.core.sessions"
SESSION_RENEW_AFTER = env.int("SESSION_RENEW_AFTER", default=60)
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "yfbz.core.views.csrf_failure"  # in Chinese, in the site's layout
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy on every response (django-csp): scripts only from our own static files
# (no inline script anywhere: tests/security/test_browser_hardening.py checks the templates), no
# plugins, no framing, forms post only to us. Inline style attributes stay allowed (progress bars,
# the admin's own templates); they cannot run code.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- Audit (django-auditlog) -------------------------------------------------------------
# Every model of the domain apps is registered; see yfbz/core/apps.py. Entries are
# append-only (admin read-only; on PostgreSQL a trigger refuses UPDATE and DELETE).
AUDITLOG_INCLUDE_ALL_MODELS = True
AUDITLOG_EXCLUDE_TRACKING_MODELS = (
    "admin",
    "auth.permission",
    "contenttypes",
    "sessions",
    "auditlog",
    "django_celery_results",
    "core.auditseal",  # the chain of the trail itself
    "core.loginfailure",  # each failure's time for the lockout window; axes's own records are tracked
    "otp_totp",  # the device's secret key never enters the trail; enrolment and resets are logged explicitly
    "funding.fileimport",  # the uploaded bytes never enter the trail; the upload and the import are logged explicitly
)
# a password hash never enters the trail; ID and phone numbers in it are masked (docs/security.md)
AUDITLOG_EXCLUDE_TRACKING_FIELDS = ("password", "last_login")
AUDITLOG_MASK_TRACKING_FIELDS = ("id_number", "phone")
AUDITLOG_MASK_CALLABLE = "yfbz.core.pii.mask"
AUDITLOG_DISABLE_REMOTE_ADDR = False
AUDITLOG_STORE_JSON_CHANGES = True

# django-import-export: importing needs the add permission, exporting the view permission (the admin
# bases in yfbz/core/adminlock.py narrow both further to the roles that keep the data)
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# importing: xlsx and CSV only, each file checked like every upload (yfbz/core/importformats.py)
from yfbz.core.importformats import CheckedCSV, CheckedXLSX  # noqa: E402

IMPORT_FORMATS = [CheckedCSV, CheckedXLSX]

# --- The bureau ---------------------------------------------------------------------------
YFBZ_BUREAU_NAME = env.str("YFBZ_BUREAU_NAME", default="重庆市渝北区医疗保障局")
YFBZ_SITE_TITLE = env.str("YFBZ_SITE_TITLE", default="渝北区医疗救助管理系统")
YFBZ_DOC_PREFIX = env.str("YFBZ_DOC_PREFIX", default="渝北医保救助")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
