"""Jiayi settings: one module, driven by environment variables (12-factor).

`DATABASE_URL` picks the database (SQLite file by default, PostgreSQL for production);
`SECRET_KEY`, `DEBUG` and `ALLOWED_HOSTS` come from the environment too.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent  # src/jiayi
PROJECT_DIR = BASE_DIR.parent.parent  # repository root

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    SECURE=(bool, False),
)
# A local `.env` (written by `make install` with a random SECRET_KEY) configures a checkout;
# JIAYI_ENV_FILE points elsewhere, or "" to read none.
env_file = os.environ.get("JIAYI_ENV_FILE", str(PROJECT_DIR / ".env"))
if env_file and Path(env_file).exists():
    environ.Env.read_env(env_file)

DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    _dev_run = DEBUG or os.environ.get("JIAYI_ALLOW_DEV_KEY") == "1" or "pytest" in sys.modules
    if not _dev_run:
        # A dev key is allowed only for local runs (make demo / make test set JIAYI_ALLOW_DEV_KEY).
        raise RuntimeError(
            "SECRET_KEY must be set in the environment or in .env (`make install` writes one for a "
            "development checkout; DEBUG=1 or JIAYI_ALLOW_DEV_KEY=1 allow a development key)"
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "auditlog",
    "django_tasks",
    "django_tasks_db",
    "jiayi.core",
    "jiayi.org",
    "jiayi.residents",
    "jiayi.contracts",
    "jiayi.programmes",
    # Programmes: one app (folder) each, registering itself with the programme engine.
    "jiayi.programmes.hypertension",
    "jiayi.programmes.diabetes",
    "jiayi.indicators",
    "jiayi.synth",
    "jiayi.interop",
    "jiayi.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "jiayi.core.middleware.RequestContextMiddleware",
    "jiayi.core.middleware.RejectNulBytesMiddleware",
]

ROOT_URLCONF = "jiayi.urls"
WSGI_APPLICATION = "jiayi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jiayi.web.context.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{PROJECT_DIR / 'var' / 'jiayi.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web server, background tasks and imports share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA cache_size=-200000; PRAGMA temp_store=MEMORY;",
        }
    )
    (PROJECT_DIR / "var").mkdir(exist_ok=True)
    # Tests use a real file too (not shared-cache memory), so concurrency behaves as in production.
    DATABASES["default"].setdefault("TEST", {}).setdefault(
        "NAME", str(PROJECT_DIR / "var" / f"test_{os.getpid()}.sqlite3")
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    # One test database per test process, so parallel runs on one server never drop each other's.
    DATABASES["default"].setdefault("TEST", {}).setdefault(
        "NAME", f"test_{DATABASES['default']['NAME']}_{os.getpid()}"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache holds the failed-login counters (jiayi.core.throttle). Local memory is per process: fine for
# development and one server process; with several worker processes or servers set CACHE_URL to a
# shared cache (e.g. redis://host:6379/1 with the redis package, or pymemcache://host:11211).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # Room for many counters: at the default 300 entries, guessing many usernames would evict the locks.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 100_000)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Chinese first: zh-hans is the default, English ships as a translation. Message ids are Chinese
# (docs/adr/0002-chinese-message-ids.md), so the default language needs no catalogue at all.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = PROJECT_DIR / "var" / "static"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Front-end libraries come from npm (package.json), never from a CDN: sites are intranets.
    ("vendor/echarts", PROJECT_DIR / "node_modules" / "echarts" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False

# Security defaults; `SECURE=1` turns on the HTTPS-only settings for production (check --deploy).
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env("SECURE"):
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

NINJA_PAGINATION_PER_PAGE = 50


def _rulesets_setting(name: str) -> dict[str, str]:
    from jiayi.core.rulesets import parse_choices

    try:
        return parse_choices(env(name, default=""))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc} (expected programme=code,programme=code)") from exc


def _spark_conf_setting(name: str) -> dict[str, str]:
    raw = env(name, default="").strip()
    if not raw:
        return {}
    try:
        conf = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc} (expected a JSON object of Spark settings)") from exc
    if not isinstance(conf, dict) or not all(
        isinstance(k, str) and k.startswith("spark.") and isinstance(v, str | int | float | bool)
        for k, v in conf.items()
    ):
        raise ImproperlyConfigured(f'{name}: expected a JSON object {{"spark.<setting>": value, ...}}')
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in conf.items()}


# Jiayi's own knobs.
JIAYI = {
    # A family doctor's list size above which signing warns (not a national rule: RULES.md 6.2).
    "DOCTOR_LIST_SOFT_CAP": env.int("JIAYI_DOCTOR_LIST_SOFT_CAP", default=2000),
    # "institution": staff see their institution subtree; "team": only their team's signed residents.
    "STAFF_SCOPE": env("JIAYI_STAFF_SCOPE", default="institution"),
    "API_TOKEN_DAYS": env.int("JIAYI_API_TOKEN_DAYS", default=30),
    # Failed logins (API token and login page) allowed per username and per client address within
    # LOGIN_LOCKOUT_SECONDS; one more is refused (429) until the lockout has passed (jiayi.core.throttle).
    "LOGIN_FAILURES_PER_USERNAME": env.int("JIAYI_LOGIN_FAILURES_PER_USERNAME", default=5),
    "LOGIN_FAILURES_PER_ADDRESS": env.int("JIAYI_LOGIN_FAILURES_PER_ADDRESS", default=50),
    "LOGIN_LOCKOUT_SECONDS": env.int("JIAYI_LOGIN_LOCKOUT_SECONDS", default=900),
    # Rule sets the indicator engine uses instead of those in force by date, {programme: code}, from
    # JIAYI_INDICATOR_RULESETS="hypertension=chronic-2025,programme-engine=nbphs-2017-estimated"
    # (unknown programmes or codes fail the indicators app's system check).
    "INDICATOR_RULESETS": _rulesets_setting("JIAYI_INDICATOR_RULESETS"),
    # The target preset dashboards open with (a built-in code such as "gusu-2021" or a district's own);
    # empty = the built-in preset of the user's district, if any.
    "TARGET_PRESET": env("JIAYI_TARGET_PRESET", default=""),
    # Local time of day (HH:MM) at which the deployment's scheduler (cron or a systemd timer running
    # `manage.py indicators compute`) starts the daily indicator run; a page without stored values for
    # its period says when that next run is.
    "INDICATOR_DAILY_RUN_AT": env("JIAYI_INDICATOR_DAILY_RUN_AT", default="02:00"),
    # A folder for the indicator engine's local copy of the raw tables (DuckDB / Spark on PostgreSQL,
    # ADR 0007); empty = read every row from the database on each run.
    "INDICATOR_SNAPSHOT_DIR": env("JIAYI_INDICATOR_SNAPSHOT_DIR", default=""),
    # The DuckDB file in which the indicator engine keeps the raw tables between runs and applies the
    # captured changes (ADR 0008); empty = the DuckDB backend reads every row from the database each run.
    "INDICATOR_STORE": env("JIAYI_INDICATOR_STORE", default=str(PROJECT_DIR / "var" / "indicators.duckdb")),
    # Health-record-number rule set = the scheme of the committee segment of the area codes (RULES.md 9.1):
    # "hrn-2011" (居委会 001-099, 村委会 101-199) or "nbs-statistical" (real NBS codes: 001-199 / 200-399).
    "RECORD_NUMBER_RULESET": env("JIAYI_RECORD_NUMBER_RULESET", default="hrn-2011"),
    # The Spark backend (ADR 0011): where it runs, with what, and where the raw tables are put as Parquet.
    "SPARK": {
        # local[N] (in this process' JVM) or a cluster, e.g. spark://127.0.0.1:7077.
        "MASTER": env("JIAYI_SPARK_MASTER", default="local[2]"),
        "DRIVER_MEMORY": env("JIAYI_SPARK_DRIVER_MEMORY", default="2g"),
        "EXECUTOR_MEMORY": env("JIAYI_SPARK_EXECUTOR_MEMORY", default="2g"),
        "EXECUTOR_CORES": env.int("JIAYI_SPARK_EXECUTOR_CORES", default=2),
        # Cores the run may take on a cluster in all (spark.cores.max); 0 = every free core.
        "CORES_MAX": env.int("JIAYI_SPARK_CORES_MAX", default=0),
        # Shuffle partitions (spark.sql.shuffle.partitions and spark.default.parallelism).
        "PARTITIONS": env.int("JIAYI_SPARK_PARTITIONS", default=2),
        # How long an executor may stay silent before it is given up (spark.network.timeout).
        "NETWORK_TIMEOUT": env("JIAYI_SPARK_NETWORK_TIMEOUT", default="120s"),
        # A run whose Spark jobs finish no task for this long is cancelled with an error (never a hang).
        "STALL_SECONDS": env.int("JIAYI_SPARK_STALL_SECONDS", default=300),
        # Any other Spark setting, as a JSON object: '{"spark.sql.adaptive.enabled": "true"}'.
        "CONF": _spark_conf_setting("JIAYI_SPARK_CONF"),
        # Where each run writes the raw tables as Parquet by month (on a cluster: a path every executor
        # reads at the same place, e.g. a shared mount).
        "DATA_DIR": env("JIAYI_SPARK_DATA_DIR", default=str(PROJECT_DIR / "var" / "spark")),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}

if "pytest" in sys.modules:
    # Tests create many accounts; a fast hasher keeps the suite quick (never used outside tests).
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Each test process keeps its indicator snapshot in its own temporary folder, removed at exit.
    if "JIAYI_INDICATOR_SNAPSHOT_DIR" not in os.environ:
        import atexit
        import shutil
        import tempfile

        JIAYI["INDICATOR_SNAPSHOT_DIR"] = tempfile.mkdtemp(prefix="jiayi-snapshot-")
        atexit.register(shutil.rmtree, JIAYI["INDICATOR_SNAPSHOT_DIR"], ignore_errors=True)
    # ... and its indicator store (every DuckDB computation of the suite goes through it).
    if "JIAYI_INDICATOR_STORE" not in os.environ:
        import atexit
        import shutil
        import tempfile

        _store_dir = tempfile.mkdtemp(prefix="jiayi-store-")
        JIAYI["INDICATOR_STORE"] = os.path.join(_store_dir, "indicators.duckdb")
        atexit.register(shutil.rmtree, _store_dir, ignore_errors=True)
    # ... and its own folder for the Spark backend's Parquet files.
    if "JIAYI_SPARK_DATA_DIR" not in os.environ:
        import atexit
        import shutil
        import tempfile

        JIAYI["SPARK"]["DATA_DIR"] = tempfile.mkdtemp(prefix="jiayi-spark-")
        atexit.register(shutil.rmtree, JIAYI["SPARK"]["DATA_DIR"], ignore_errors=True)
