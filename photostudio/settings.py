"""Settings for the Studio CRM, read from environment variables only (see .env.example).

With no variables at all this is the embedded default: SQLite, an in-process cache, Celery
tasks run eagerly in process and e-mail printed to the console. DATABASE_URL and REDIS_URL
switch to the production stack: PostgreSQL, Redis and Celery workers.
"""

import re
import zoneinfo
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import phonenumbers
import redis.connection
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from photostudio.env import env_bool, env_choice, env_int, env_list, env_str
from photostudio.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
# The longest any duration setting may be: longer ones only overflow the date arithmetic that
# applies them to the clock (a year before 1 or after 9999), failing requests instead of start-up.
DURATION_MAX_SECONDS = 10 * 365 * 24 * 3600  # ten years
DURATION_MAX_MINUTES = DURATION_MAX_SECONDS // 60

# --- Core -------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)


def _is_placeholder(secret: str, *, minimum_length: int) -> bool:
    """A secret from .env.example or a tutorial, or too short: anyone may know or guess it."""
    letters = re.sub(r"[^a-z]", "", secret.lower())
    return len(secret) < minimum_length or any(
        word in letters
        for word in ("yoursecretkey", "yourmetricstoken", "changeme", "changethis", "replaceme", "insecure")
    )


SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: set SECRET_KEY (50+ random characters) or DEBUG=true for local use"
        )
    SECRET_KEY = "insecure-local-development-key-never-use-in-production-0123456789"
elif not DEBUG and _is_placeholder(SECRET_KEY, minimum_length=50):
    # Placeholders from .env.example and tutorials sign tokens anyone can forge; refuse them.
    raise ImproperlyConfigured(
        "SECRET_KEY is a placeholder or shorter than 50 characters: set 50+ random characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
if not ALLOWED_HOSTS and not DEBUG:
    # Django would answer every request 400, while /health (any host) kept the containers healthy.
    raise ImproperlyConfigured("ALLOWED_HOSTS names no host: list the names the studio is reached by (crm.example.com)")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

TIME_ZONE = env_str("TIME_ZONE", "UTC")
if TIME_ZONE not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not an IANA time zone such as Europe/Berlin")
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True

ROOT_URLCONF = "photostudio.urls"
WSGI_APPLICATION = "photostudio.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "employees.Employee"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"

INSTALLED_APPS = [
    # django.contrib.admin, whose admin.site is the MFA-only StudioAdminSite.
    "employees.apps.StudioAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_prometheus",
    "django_htmx",
    "photostudio",
    "employees",
    "bookings",
    "events",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "photostudio.middleware.RequestIdMiddleware",
    "photostudio.middleware.LivenessProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "photostudio.headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "employees.middleware.MfaEnrollmentMiddleware",
    "employees.middleware.SignInActivityMiddleware",
    "photostudio.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "photostudio.metrics.PrometheusAfterMiddleware",
]

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
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------


def _parsed_database_url(url: str, *, named: str, **options) -> dict:
    """The Django database of a postgresql:// URL, or a one-line refusal that names the variable
    (``named``) without repeating the URL, whose password it may hold."""
    try:
        database = dj_database_url.parse(url, **options)
    except ValueError:  # a port that is no number, an unclosed [ ... as dj_database_url.ParseError
        raise ImproperlyConfigured(
            f"{named} is not a valid URL: write it as postgresql://user:password@host:port/name, "
            "with special characters in the password %-encoded"
        ) from None
    if not database["NAME"] and "service" not in database.get("OPTIONS", {}):
        raise ImproperlyConfigured(f"{named} names no database: end it with /name, as in postgresql://host:5432/studio")
    return database


DATABASE_URL = env_str("DATABASE_URL")
# The process model: app containers behind the proxy (APP_REPLICAS), gunicorn workers in each
# (WEB_CONCURRENCY, below with the event bus), threads per gunicorn worker (GUNICORN_THREADS; read
# by photostudio/gunicorn.py from here), Celery worker processes per worker container
# (CELERY_CONCURRENCY, below).
GUNICORN_THREADS = env_int("GUNICORN_THREADS", 1, minimum=1)
APP_REPLICAS = env_int("APP_REPLICAS", 1, minimum=1)
# A process holds one connection per thread that serves a request or runs a task: a sync gunicorn
# worker or a Celery worker process needs one, a gunicorn worker with threads one per thread. The
# pool keeps DATABASE_POOL_SIZE open and opens up to DATABASE_MAX_OVERFLOW more while all are busy
# (only useful when the pool is set below the thread count). docs/operations.md adds them up.
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", GUNICORN_THREADS, minimum=1)
DATABASE_MAX_OVERFLOW = env_int("DATABASE_MAX_OVERFLOW", 0, minimum=0)
# Opt-in: parameters bound by the server and statements prepared once a connection has run them
# five times (psycopg's default threshold), so PostgreSQL skips parsing and planning them again
# (a third to a half of its CPU for a booking write). Off by default: a migration that changes a
# column's type makes every running process's prepared statements on it fail ("cached plan must
# not change result type") until it restarts, and a pooler must keep a session's statements.
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", False)
_STATEMENT_OPTIONS = {"server_side_binding": True, "prepare_threshold": 5} if DATABASE_PREPARED_STATEMENTS else {}
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured("DATABASE_URL must be a postgresql://user:password@host:port/name URL")
    # Health checks: the pool tries each connection before handing it out (the guide's
    # pool_pre_ping), so a connection PostgreSQL dropped while idle (a restart, a firewall or pooler
    # timeout) is replaced instead of failing the request that draws it with a 503. The price is
    # one empty query's round trip per request (about 60 us on a local socket).
    _database = _parsed_database_url(DATABASE_URL, named="DATABASE_URL", conn_health_checks=True)
    _database["OPTIONS"] = {
        "pool": {
            "min_size": DATABASE_POOL_SIZE,
            "max_size": DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW,
            "timeout": 10,
        },
        **_STATEMENT_OPTIONS,
    }
else:
    _database = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        # IMMEDIATE takes the write lock when a transaction starts, so two check-then-insert
        # transactions (booking a slot) run one after the other instead of both passing the check.
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
DATABASES = {"default": _database}

# Streaming replicas of the primary; the read-only selectors (lists, calendar, reports) read from
# them, and a caller stays on the primary for DATABASE_REPLICA_PIN_SECONDS after writing.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS", [])
DATABASE_REPLICA_PIN_SECONDS = env_int("DATABASE_REPLICA_PIN_SECONDS", 10, minimum=1, maximum=DURATION_MAX_SECONDS)
if DATABASE_REPLICA_URLS and not DATABASE_URL:
    raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs DATABASE_URL: replicas are of a PostgreSQL primary")
for _number, _replica_url in enumerate(DATABASE_REPLICA_URLS, start=1):
    if not _replica_url.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URLS entry {_number} is not a postgresql://user:password@host:port/name URL"
        )
    # No pool: a pool waits its whole timeout for a replica that is down, where a plain connection
    # is refused at once and the read goes to the primary.
    DATABASES[f"replica_{_number}"] = {
        **_parsed_database_url(
            _replica_url, named=f"DATABASE_REPLICA_URLS entry {_number}", conn_max_age=60, conn_health_checks=True
        ),
        "OPTIONS": {"connect_timeout": 2, **_STATEMENT_OPTIONS},
        "TEST": {"MIRROR": "default"},
    }
if DATABASE_REPLICA_URLS:
    DATABASE_ROUTERS = ["photostudio.replicas.PrimaryRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("photostudio.middleware.RequestIdMiddleware") + 1,
        "photostudio.replicas.ReadYourWritesMiddleware",
    )

# --- Cache and Celery -------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# Connections per process for cache calls, at least one per thread serving requests; each such
# thread also keeps one outside the pool on which Redis tracks what it read (photostudio.redis_cache).
REDIS_POOL_SIZE = env_int("REDIS_POOL_SIZE", max(10, GUNICORN_THREADS), minimum=GUNICORN_THREADS)
CACHE_TTL = env_int("CACHE_TTL", 300, minimum=0, maximum=DURATION_MAX_SECONDS)
# How long (milliseconds) a process answers the cache's namespace versions from what Redis tracks
# for it before asking again anyway, should a message that one changed have been lost with a
# connection that broke silently; 0 asks Redis on every request.
CACHE_TRACKING_MAX_AGE_MS = env_int("CACHE_TRACKING_MAX_AGE_MS", 1000, minimum=0, maximum=DURATION_MAX_SECONDS * 1000)
# photostudio.cache's in-process L1 in front of the shared cache: at most CACHE_L1_MAX_SIZE
# values per process, each for at most CACHE_L1_TTL seconds (the guide's l1_max_size, l1_ttl).
CACHE_L1_MAX_SIZE = env_int("CACHE_L1_MAX_SIZE", 1000, minimum=0)
CACHE_L1_TTL = env_int("CACHE_L1_TTL", 60, minimum=0, maximum=DURATION_MAX_SECONDS)
# cache.lock(): how long to wait for another holder, and when a dead holder's lock expires
# (the guide's lock_timeout, lock_ttl), in seconds.
CACHE_LOCK_TIMEOUT = env_int("CACHE_LOCK_TIMEOUT", 10, minimum=0, maximum=DURATION_MAX_SECONDS)
CACHE_LOCK_TTL = env_int("CACHE_LOCK_TTL", 30, minimum=1, maximum=DURATION_MAX_SECONDS)
# Beat re-computes today's and tomorrow's cached day lists this often, in seconds.
CACHE_WARM_INTERVAL = env_int("CACHE_WARM_INTERVAL", 60, minimum=10, maximum=DURATION_MAX_SECONDS)
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured("REDIS_URL must be a redis://host:port/db URL")
    try:
        redis.connection.parse_url(REDIS_URL)  # the port and the query's options
    except ValueError as exc:
        raise ImproperlyConfigured(f"REDIS_URL is not a valid URL ({exc}): write it as redis://host:port/db") from None
    # redis-py reads a database that is no number as 0, another deployment's perhaps; Celery refuses it.
    if not re.fullmatch(r"/?[0-9]*", urlsplit(REDIS_URL).path):
        raise ImproperlyConfigured(
            "REDIS_URL is not a valid URL: its database (after the last /) must be a number, as in redis://host:6379/0"
        )
    # Fails open: with Redis down, reads are misses and writes are dropped (logged and counted),
    # so pages and the API, throttle included, keep answering from the database.
    CACHES = {
        "default": {
            "BACKEND": "photostudio.redis_cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "TIMEOUT": CACHE_TTL,
            "OPTIONS": {
                "CONNECTION_POOL_KWARGS": {"max_connections": REDIS_POOL_SIZE},
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "TIMEOUT": CACHE_TTL}}

# The guide's event bus: "memory" runs event handlers (Celery tasks) eagerly in the process that
# published them, "redis" sends them to Celery workers over Redis.
EVENT_BUS_TYPE = env_choice("EVENT_BUS_TYPE", "redis" if REDIS_URL else "memory", {"memory", "redis"})
if EVENT_BUS_TYPE == "redis" and not REDIS_URL:
    raise ImproperlyConfigured("EVENT_BUS_TYPE=redis needs REDIS_URL (the Celery broker); set it or use memory")
# Gunicorn workers per app container; one unless the bus reaches every process.
WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", 3 if EVENT_BUS_TYPE == "redis" else 1, minimum=1)
if EVENT_BUS_TYPE == "memory" and not DEBUG and WEB_CONCURRENCY * APP_REPLICAS > 1:
    # In-process subscribers (cache invalidation) and the in-process cache would reach one process only.
    raise ImproperlyConfigured(
        f"EVENT_BUS_TYPE=memory serves one app process, not WEB_CONCURRENCY={WEB_CONCURRENCY} x "
        f"APP_REPLICAS={APP_REPLICAS}: set REDIS_URL and EVENT_BUS_TYPE=redis, or run one process"
    )

CELERY_BROKER_URL = REDIS_URL if EVENT_BUS_TYPE == "redis" else "memory://"
if EVENT_BUS_TYPE == "redis":
    CELERY_BROKER_TRANSPORT = "photostudio.broker:Transport"
CELERY_TASK_ALWAYS_EAGER = EVENT_BUS_TYPE == "memory"
CELERY_WORKER_CONCURRENCY = env_int("CELERY_CONCURRENCY", 2, minimum=1)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A commit must not hang on a dead broker: the outbox relay sends what could not be queued.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TIMEZONE = TIME_ZONE
# The queue tasks are sent to and workers consume: installations (or test runs) sharing one
# Redis database stay apart by naming their own.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE") or "celery"
# /health/events turns 503 once an event has waited this long to be dispatched.
EVENTS_BACKLOG_MAX_AGE = env_int("EVENTS_BACKLOG_MAX_AGE", 300, minimum=1, maximum=DURATION_MAX_SECONDS)
# GET /api/v1/events/ lists an event once it is this many seconds old and every transaction that
# began before it has ended (events/selectors.py: events_listed_until): pollers miss none.
EVENTS_LIST_SETTLE = env_int("EVENTS_LIST_SETTLE", 2, minimum=0, maximum=60)
# ...but waits at most this many seconds for a transaction still open: one left open must not
# freeze the list; an event committed later than this after it occurred can be missed by pollers.
EVENTS_LIST_MAX_WAIT = env_int("EVENTS_LIST_MAX_WAIT", 60, minimum=0, maximum=DURATION_MAX_SECONDS)

# --- Events: delivery, relay, notifications, webhooks -----------------------------------------
# Attempts per (event, handler) before the delivery is marked failed (re-runnable in the admin);
# the wait after attempt n is EVENTS_RETRY_BASE_DELAY * 2^(n-1) seconds, at most EVENTS_RETRY_MAX_DELAY.
# At most 1000 attempts (weeks of hourly retries): a delivery stores its count in a 32-bit column.
_MAX_ATTEMPTS = 1000
EVENTS_HANDLER_MAX_ATTEMPTS = env_int("EVENTS_HANDLER_MAX_ATTEMPTS", 5, minimum=1, maximum=_MAX_ATTEMPTS)
EVENTS_RETRY_BASE_DELAY = env_int("EVENTS_RETRY_BASE_DELAY", 30, minimum=1, maximum=DURATION_MAX_SECONDS)
EVENTS_RETRY_MAX_DELAY = env_int("EVENTS_RETRY_MAX_DELAY", 3600, minimum=1, maximum=DURATION_MAX_SECONDS)
# The relay (beat, every EVENTS_RELAY_INTERVAL seconds, or `manage.py relay_events`) re-sends
# events and retries that have waited EVENTS_RELAY_AFTER seconds, and releases attempts running
# longer than EVENTS_DELIVERY_LEASE seconds (their worker died); what it sent it sends again only
# after EVENTS_DELIVERY_LEASE seconds (slow workers have not taken it yet).
EVENTS_RELAY_INTERVAL = env_int("EVENTS_RELAY_INTERVAL", 60, minimum=5, maximum=DURATION_MAX_SECONDS)
EVENTS_RELAY_AFTER = env_int("EVENTS_RELAY_AFTER", 60, minimum=0, maximum=DURATION_MAX_SECONDS)
EVENTS_DELIVERY_LEASE = env_int("EVENTS_DELIVERY_LEASE", 900, minimum=120, maximum=DURATION_MAX_SECONDS)

NOTIFICATION_KINDS = (
    "booking_created",
    "booking_confirmed",
    "booking_rescheduled",
    "booking_cancelled",
    "booking_reminder",
    "photographer_assigned",
)
NOTIFICATIONS_ENABLED = env_list("NOTIFICATIONS_ENABLED", list(NOTIFICATION_KINDS))
if set(NOTIFICATIONS_ENABLED) - set(NOTIFICATION_KINDS):
    raise ImproperlyConfigured(
        f"NOTIFICATIONS_ENABLED may only name {', '.join(NOTIFICATION_KINDS)}; "
        f"got {', '.join(sorted(set(NOTIFICATIONS_ENABLED) - set(NOTIFICATION_KINDS)))}"
    )
# Clients get the reminder this many minutes before their session; beat looks every
# NOTIFICATIONS_REMINDER_INTERVAL seconds.
NOTIFICATIONS_REMINDER_LEAD_MINUTES = env_int(
    "NOTIFICATIONS_REMINDER_LEAD_MINUTES", 24 * 60, minimum=1, maximum=DURATION_MAX_MINUTES
)
NOTIFICATIONS_REMINDER_INTERVAL = env_int(
    "NOTIFICATIONS_REMINDER_INTERVAL", 300, minimum=30, maximum=DURATION_MAX_SECONDS
)

WEBHOOKS_TIMEOUT = env_int("WEBHOOKS_TIMEOUT", 10, minimum=1, maximum=60)
WEBHOOKS_MAX_ATTEMPTS = env_int("WEBHOOKS_MAX_ATTEMPTS", 8, minimum=1, maximum=_MAX_ATTEMPTS)
# Off: webhooks never go to loopback, private or link-local addresses, even via DNS.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", False)

# Days `manage.py prune` (and beat, nightly at 03:30 studio time) keeps deliveries, ended sign-ins,
# sign-in logs, idempotency keys and expired tokens; the event trail is pruned only by hand.
PRUNE_RETENTION_MAX_DAYS = 36_500  # a century
PRUNE_RETENTION_DAYS = env_int("PRUNE_RETENTION_DAYS", 90, minimum=1, maximum=PRUNE_RETENTION_MAX_DAYS)
# PostgreSQL: events_event has one partition per month; beat (daily) and `manage.py
# create_partitions` keep EVENTS_PARTITIONS_AHEAD months beyond the current one ready.
EVENTS_PARTITIONS_AHEAD = env_int("EVENTS_PARTITIONS_AHEAD", 3, minimum=1, maximum=120)
# PostgreSQL: beat refreshes the reports' daily figures every ANALYTICS_REFRESH_INTERVAL seconds;
# whatever changed since is added live, so reports are never stale.
ANALYTICS_REFRESH_INTERVAL = env_int("ANALYTICS_REFRESH_INTERVAL", 900, minimum=60, maximum=DURATION_MAX_SECONDS)

CELERY_BEAT_SCHEDULE = {
    "relay-events": {"task": "events.relay", "schedule": EVENTS_RELAY_INTERVAL},
    "queue-booking-reminders": {
        "task": "bookings.queue_booking_reminders",
        "schedule": NOTIFICATIONS_REMINDER_INTERVAL,
    },
    "nightly-housekeeping": {"task": "photostudio.nightly_housekeeping", "schedule": crontab(hour=3, minute=30)},
    "warm-day-lists": {"task": "bookings.warm_day_lists", "schedule": CACHE_WARM_INTERVAL},
    "create-event-partitions": {"task": "events.create_partitions", "schedule": 24 * 3600},
    "refresh-analytics": {"task": "bookings.refresh_analytics", "schedule": ANALYTICS_REFRESH_INTERVAL},
    # Waitlist entries whose start has come are expired within five minutes; until then Today no
    # longer offers them and booking one is refused.
    "expire-waitlist": {"task": "bookings.expire_waitlist", "schedule": 300},
}

# --- Bookings ---------------------------------------------------------------------------------
BOOKING_MIN_DURATION_MINUTES = env_int("BOOKING_MIN_DURATION_MINUTES", 30, minimum=1, maximum=DURATION_MAX_MINUTES)
BOOKING_MAX_DURATION_MINUTES = env_int("BOOKING_MAX_DURATION_MINUTES", 12 * 60, minimum=1, maximum=DURATION_MAX_MINUTES)
if BOOKING_MAX_DURATION_MINUTES < BOOKING_MIN_DURATION_MINUTES:
    raise ImproperlyConfigured("BOOKING_MAX_DURATION_MINUTES must not be below BOOKING_MIN_DURATION_MINUTES")
# The employee who changed a booking's state may undo it within this many minutes (managers any time).
BOOKING_UNDO_MINUTES = env_int("BOOKING_UNDO_MINUTES", 15, minimum=0, maximum=DURATION_MAX_MINUTES)
# A session may begin this many minutes before its booked start, and complete no earlier than its start.
BOOKING_EARLY_START_MINUTES = env_int("BOOKING_EARLY_START_MINUTES", 30, minimum=0, maximum=DURATION_MAX_MINUTES)
# Country assumed for client phone numbers written without a leading + (ISO 3166 code).
PHONE_DEFAULT_REGION = env_choice("PHONE_DEFAULT_REGION", "US", phonenumbers.SUPPORTED_REGIONS)
# The studio's currency (ISO 4217 code), shown with every amount: prices, revenue, CSV headers, the API.
STUDIO_CURRENCY = env_str("STUDIO_CURRENCY", "USD").upper()
if not re.fullmatch(r"[A-Z]{3}", STUDIO_CURRENCY):
    raise ImproperlyConfigured(f"STUDIO_CURRENCY={STUDIO_CURRENCY!r} is not an ISO 4217 code such as USD or EUR")

# --- Security and authentication --------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

JWT_ALGORITHM = env_choice("JWT_ALGORITHM", "HS256", {"HS256", "HS384", "HS512"})
JWT_EXPIRATION = env_int("JWT_EXPIRATION", 3600, minimum=60, maximum=DURATION_MAX_SECONDS)
JWT_REFRESH_EXPIRATION = env_int("JWT_REFRESH_EXPIRATION", 7 * 24 * 3600, minimum=300, maximum=DURATION_MAX_SECONDS)
SIMPLE_JWT = {
    "ALGORITHM": JWT_ALGORITHM,
    "SIGNING_KEY": SECRET_KEY,
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=JWT_EXPIRATION),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=JWT_REFRESH_EXPIRATION),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
}

MFA_ISSUER = env_str("MFA_ISSUER", "PhotoStudio")
OTP_TOTP_ISSUER = MFA_ISSUER
# Wrong codes count toward the lockout (RATE_LIMIT_*), the one limit on guessing. django-otp's own
# growing wait after each wrong code would refuse the right one typed within it, unchecked, as a
# wrong code that counts toward the lockout as well.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# Roles that must sign in with a second factor; such an employee without one is sent to set it up.
MFA_REQUIRED_ROLES = env_list("MFA_REQUIRED_ROLES", ["admin", "manager"])
if not set(MFA_REQUIRED_ROLES) <= {"admin", "manager", "receptionist", "photographer"}:
    raise ImproperlyConfigured(
        f"MFA_REQUIRED_ROLES={','.join(MFA_REQUIRED_ROLES)!r} may only name admin, manager, receptionist, photographer"
    )

RATE_LIMIT_MAX_ATTEMPTS = env_int("RATE_LIMIT_MAX_ATTEMPTS", 5, minimum=1)
RATE_LIMIT_WINDOW = env_int("RATE_LIMIT_WINDOW", 300, minimum=1, maximum=DURATION_MAX_SECONDS)
RATE_LIMIT_LOCK_DURATION = env_int("RATE_LIMIT_LOCK_DURATION", 900, minimum=1, maximum=DURATION_MAX_SECONDS)
AXES_FAILURE_LIMIT = RATE_LIMIT_MAX_ATTEMPTS
# employees.lockout counts failures within RATE_LIMIT_WINDOW and locks for RATE_LIMIT_LOCK_DURATION;
# axes keeps its records for as long as either needs them.
AXES_HANDLER = "employees.lockout.WindowedLockoutHandler"
AXES_COOLOFF_TIME = timedelta(seconds=max(RATE_LIMIT_LOCK_DURATION, RATE_LIMIT_WINDOW))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "employees.views.lockout_response"
AXES_LOCKOUT_PARAMETERS = ["username", ["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Reverse proxies in front of the app that append to X-Forwarded-For (the Compose proxy: 1).
AXES_IPWARE_PROXY_COUNT = env_int("PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "photostudio.middleware.client_ip"
# Password reset links sent to one address in each clock hour; more show the same page and send nothing.
PASSWORD_RESET_EMAILS_PER_HOUR = env_int("PASSWORD_RESET_EMAILS_PER_HOUR", 3, minimum=1, maximum=1000)

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^health", r"^metrics$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0, maximum=DURATION_MAX_SECONDS)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=300, maximum=DURATION_MAX_SECONDS)
X_FRAME_OPTIONS = "DENY"

# --- REST API ---------------------------------------------------------------------------------
# Requests one signed-in API caller may make ("<number>/<second|minute|hour|day>"), counted in the
# cache, so across processes on Redis; over it the API answers 429 `throttled`. Separate from the
# sign-in lockout (RATE_LIMIT_*), which guards the password, not the API's capacity.
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "600/minute")
if not re.fullmatch(r"[1-9][0-9]*/(second|minute|hour|day)", API_THROTTLE_RATE):
    raise ImproperlyConfigured(f"API_THROTTLE_RATE={API_THROTTLE_RATE!r} must read like 600/minute or 10/second")
# How long the answer to a POST with an Idempotency-Key is kept for retries, in seconds.
IDEMPOTENCY_KEY_TTL = env_int("IDEMPOTENCY_KEY_TTL", 24 * 3600, minimum=60, maximum=DURATION_MAX_SECONDS)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "employees.authentication.SignInJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["photostudio.api.CallerRateThrottle"],
    # JSON in and out: the guide's contract. Other media types answer 415 / 406.
    "DEFAULT_PARSER_CLASSES": ["photostudio.api.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "photostudio.api.ContentNegotiation",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "photostudio.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "photostudio.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["photostudio.api.FilterBackend"],
    "EXCEPTION_HANDLER": "photostudio.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Studio CRM API",
    "DESCRIPTION": "Bookings, clients, staff and events of a photo studio.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Tags and operation ids come from the path after /api/v1/: bookings, clients, spaces, ...
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "ENUM_NAME_OVERRIDES": {
        "BookingStateEnum": "bookings.models.BookingState",
        "RoleEnum": "employees.models.Role",
        "WaitlistStatusEnum": "bookings.models.WaitlistStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "photostudio.openapi.describe_api",
        "photostudio.openapi.add_links",
        "bookings.api.schema.add_booking_links",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": False, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
}

# --- Static files and e-mail ------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_HOST = env_str("EMAIL_HOST")
# Without EMAIL_HOST, EMAIL_FILE_PATH keeps each e-mail as a file in that directory (staging, `make smoke`).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
elif EMAIL_FILE_PATH:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Photo Studio <studio@localhost>")
if "@" not in parseaddr(DEFAULT_FROM_EMAIL)[1]:
    raise ImproperlyConfigured(
        f"DEFAULT_FROM_EMAIL={DEFAULT_FROM_EMAIL!r} holds no e-mail address: write it as studio@example.com "
        "or Photo Studio <studio@example.com>"
    )
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Observability ----------------------------------------------------------------------------
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
# LOG_FILE also writes the JSON lines to a file, rotated at LOG_FILE_MAX_BYTES, keeping LOG_FILE_BACKUPS.
LOG_FILE = env_str("LOG_FILE")
if LOG_FILE and not Path(LOG_FILE).parent.is_dir():
    raise ImproperlyConfigured(f"LOG_FILE={LOG_FILE!r} is in a directory that does not exist")
if LOG_FILE:
    # What the handler would do when logging is set up, where a failure is a traceback naming no variable.
    try:
        Path(LOG_FILE).open("a").close()
    except OSError as exc:
        raise ImproperlyConfigured(f"LOG_FILE={LOG_FILE!r} cannot be written: {exc.strerror}") from None
LOG_FILE_MAX_BYTES = env_int("LOG_FILE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
LOG_FILE_BACKUPS = env_int("LOG_FILE_BACKUPS", 5, minimum=0)
LOGGING = logging_config(LOG_LEVEL, log_file=LOG_FILE, max_bytes=LOG_FILE_MAX_BYTES, backups=LOG_FILE_BACKUPS)
# Gunicorn's master and the Celery worker serve their processes' metrics on this port (0 = off),
# for Prometheus inside the deployment; /metrics stays the public page.
METRICS_PORT = env_int("METRICS_PORT", 0, minimum=0, maximum=65535)
PROMETHEUS_EXPORT_MIGRATIONS = False
# When set, /metrics answers only requests carrying "Authorization: Bearer <METRICS_TOKEN>".
METRICS_TOKEN = env_str("METRICS_TOKEN")
if METRICS_TOKEN and not DEBUG and _is_placeholder(METRICS_TOKEN, minimum_length=20):
    # .env.example's token is public: keeping it would show /metrics to anyone who read it.
    raise ImproperlyConfigured(
        "METRICS_TOKEN is a placeholder or shorter than 20 characters: set 20+ random characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    )
