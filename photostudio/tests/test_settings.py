import ast
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

SETTINGS_FILE = Path(__file__).resolve().parents[1] / "settings.py"
PROJECT_DIR = SETTINGS_FILE.parents[1]
VARIABLES = [
    "DATABASE_URL", "DATABASE_POOL_SIZE", "DATABASE_MAX_OVERFLOW", "REDIS_URL", "REDIS_POOL_SIZE",
    "SECRET_KEY", "JWT_ALGORITHM", "JWT_EXPIRATION", "MFA_ISSUER", "DEBUG", "LOG_LEVEL", "CACHE_TTL",
    "RATE_LIMIT_MAX_ATTEMPTS", "RATE_LIMIT_WINDOW", "ALLOWED_HOSTS", "TIME_ZONE", "EMAIL_HOST",
    "DATABASE_REPLICA_URLS", "DATABASE_PREPARED_STATEMENTS", "CACHE_TRACKING_MAX_AGE_MS",
    "EVENT_BUS_TYPE", "WEB_CONCURRENCY", "GUNICORN_THREADS", "CELERY_CONCURRENCY", "APP_REPLICAS",
    "LOG_FILE", "LOG_FILE_MAX_BYTES", "LOG_FILE_BACKUPS", "METRICS_PORT", "EMAIL_FILE_PATH", "METRICS_TOKEN",
]  # fmt: skip


@pytest.fixture
def load_settings(monkeypatch):
    """Read settings.py afresh under the given environment, as a fresh process would."""

    def load(**env):
        for name in VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("SECRET_KEY", "k" * 50)
        for name, value in env.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return load


def test_no_variables_gives_the_embedded_default(load_settings):
    settings = load_settings()
    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is True
    assert settings["EMAIL_BACKEND"].endswith("console.EmailBackend")
    assert settings["DEBUG"] is False


def test_database_url_switches_to_pooled_postgresql(load_settings):
    settings = load_settings(
        DATABASE_URL="postgresql://studio:pw@db:5432/crm", DATABASE_POOL_SIZE="5", DATABASE_MAX_OVERFLOW="7"
    )
    database = settings["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["HOST"], database["USER"]) == ("crm", "db", "studio")
    assert database["OPTIONS"]["pool"]["min_size"] == 5
    assert database["OPTIONS"]["pool"]["max_size"] == 12


def test_postgresql_prepares_repeated_statements_when_asked(load_settings):
    database = load_settings(DATABASE_URL="postgresql://studio:pw@db:5432/crm", DATABASE_PREPARED_STATEMENTS="true")[
        "DATABASES"
    ]["default"]
    assert database["OPTIONS"]["server_side_binding"] is True
    assert database["OPTIONS"]["prepare_threshold"] == 5


def test_postgresql_prepares_no_statement_by_default(load_settings):
    database = load_settings(DATABASE_URL="postgresql://studio:pw@db:5432/crm")["DATABASES"]["default"]
    assert "server_side_binding" not in database["OPTIONS"]
    assert "prepare_threshold" not in database["OPTIONS"]


def test_redis_url_switches_cache_and_celery_broker(load_settings):
    settings = load_settings(REDIS_URL="redis://cache:6379/2", REDIS_POOL_SIZE="4", CACHE_TTL="60")
    cache = settings["CACHES"]["default"]
    assert cache["BACKEND"] == "photostudio.redis_cache.FailOpenRedisCache"
    assert cache["LOCATION"] == "redis://cache:6379/2"
    assert cache["TIMEOUT"] == 60
    assert cache["OPTIONS"]["CONNECTION_POOL_KWARGS"]["max_connections"] == 4
    assert settings["CELERY_BROKER_URL"] == "redis://cache:6379/2"
    assert settings["CELERY_BROKER_TRANSPORT"] == "photostudio.broker:Transport"
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is False


def test_security_variables_reach_jwt_mfa_and_lockout(load_settings):
    settings = load_settings(
        JWT_ALGORITHM="HS512", JWT_EXPIRATION="900", MFA_ISSUER="Lumen Studio",
        RATE_LIMIT_MAX_ATTEMPTS="3", RATE_LIMIT_WINDOW="120",
    )  # fmt: skip
    assert settings["SIMPLE_JWT"]["ALGORITHM"] == "HS512"
    assert settings["SIMPLE_JWT"]["ACCESS_TOKEN_LIFETIME"].total_seconds() == 900
    assert settings["OTP_TOTP_ISSUER"] == "Lumen Studio"
    assert settings["AXES_FAILURE_LIMIT"] == 3
    assert settings["RATE_LIMIT_WINDOW"] == 120


def test_host_time_zone_log_level_and_email_variables(load_settings):
    settings = load_settings(
        ALLOWED_HOSTS="crm.example.com, .studio.test", TIME_ZONE="Europe/Berlin", LOG_LEVEL="debug",
        EMAIL_HOST="smtp.example.com", DEBUG="true",
    )  # fmt: skip
    assert settings["ALLOWED_HOSTS"] == ["crm.example.com", ".studio.test"]
    assert settings["TIME_ZONE"] == "Europe/Berlin"
    assert settings["LOGGING"]["root"]["level"] == "DEBUG"
    assert settings["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
    assert settings["DEBUG"] is True


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("DATABASE_POOL_SIZE", "twenty", "DATABASE_POOL_SIZE='twenty' is not a whole number"),
        ("DATABASE_POOL_SIZE", "0", "DATABASE_POOL_SIZE=0 is below the minimum of 1"),
        ("DATABASE_URL", "mysql://db/crm", "DATABASE_URL must be a postgresql://"),
        ("REDIS_URL", "memcached://x", "REDIS_URL must be a redis://"),
        ("JWT_ALGORITHM", "none", "JWT_ALGORITHM='none' must be one of HS256, HS384, HS512"),
        ("JWT_EXPIRATION", "-5", "JWT_EXPIRATION=-5 is below the minimum of 60"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL='LOUD' must be one of"),
        ("TIME_ZONE", "Mars/Olympus", "TIME_ZONE='Mars/Olympus' is not an IANA time zone"),
        ("RATE_LIMIT_MAX_ATTEMPTS", "lots", "RATE_LIMIT_MAX_ATTEMPTS='lots' is not a whole number"),
        ("EVENT_BUS_TYPE", "kafka", "EVENT_BUS_TYPE='kafka' must be one of memory, redis"),
        ("EVENT_BUS_TYPE", "redis", "EVENT_BUS_TYPE=redis needs REDIS_URL"),
        ("LOG_FILE", "/nonexistent-dir/app.log", "LOG_FILE='/nonexistent-dir/app.log' is in a directory that does not"),
        ("PRUNE_RETENTION_DAYS", "36501", "PRUNE_RETENTION_DAYS=36501 is above the maximum of 36500"),
        ("EVENTS_RELAY_AFTER", "315360001", "EVENTS_RELAY_AFTER=315360001 is above the maximum of 315360000"),
        ("IDEMPOTENCY_KEY_TTL", "315360001", "IDEMPOTENCY_KEY_TTL=315360001 is above the maximum of 315360000"),
        ("BOOKING_UNDO_MINUTES", "5256001", "BOOKING_UNDO_MINUTES=5256001 is above the maximum of 5256000"),
        (
            "BOOKING_MAX_DURATION_MINUTES",
            "99999999999",
            "BOOKING_MAX_DURATION_MINUTES=99999999999 is above the maximum of 5256000",
        ),
        ("JWT_EXPIRATION", "99999999999", "JWT_EXPIRATION=99999999999 is above the maximum of 315360000"),
        ("WEBHOOKS_MAX_ATTEMPTS", "3000000000", "WEBHOOKS_MAX_ATTEMPTS=3000000000 is above the maximum of 1000"),
        (
            "EVENTS_HANDLER_MAX_ATTEMPTS",
            "3000000000",
            "EVENTS_HANDLER_MAX_ATTEMPTS=3000000000 is above the maximum of 1000",
        ),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(load_settings, variable, value, message):
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_settings(**{variable: value})


# A setting named so is a length of time, which date arithmetic applies to the clock.
_DURATION_SUFFIXES = ("_SECONDS", "_MINUTES", "_DAYS", "_TTL", "_INTERVAL", "_AGE", "_AGE_MS", "_DELAY", "_LEASE",
                      "_EXPIRATION", "_DURATION", "_AFTER", "_WINDOW", "_TIMEOUT")  # fmt: skip


def _duration_variables() -> list[str]:
    """Every variable settings.py reads with ``env_int`` whose name says it is a length of time."""
    calls = [node for node in ast.walk(ast.parse(SETTINGS_FILE.read_text())) if isinstance(node, ast.Call)]
    names = {call.args[0].value for call in calls if getattr(call.func, "id", None) == "env_int"}
    return sorted(name for name in names if name.endswith(_DURATION_SUFFIXES))


@pytest.mark.parametrize("value", ["", " , "])
def test_an_empty_allowed_hosts_is_refused_with_debug_off(load_settings, value):
    # Every page and API call would answer 400 while /health, which answers any host, stays green.
    with pytest.raises(ImproperlyConfigured, match="^ALLOWED_HOSTS names no host"):
        load_settings(ALLOWED_HOSTS=value)


def test_an_empty_allowed_hosts_is_accepted_with_debug_on(load_settings):
    assert load_settings(ALLOWED_HOSTS="", DEBUG="true")["ALLOWED_HOSTS"] == []


def test_the_duration_settings_are_found():
    assert {"CACHE_TTL", "DATABASE_REPLICA_PIN_SECONDS", "BOOKING_MIN_DURATION_MINUTES"} <= set(_duration_variables())


@pytest.mark.parametrize("variable", _duration_variables())
def test_every_duration_setting_refuses_what_would_overflow_the_calendar(load_settings, variable):
    with pytest.raises(ImproperlyConfigured, match=f"{variable}=1000000000000 is above the maximum"):
        load_settings(**{variable: "1000000000000"})


def test_secret_may_come_from_a_file(load_settings, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("s" * 60 + "\n")
    settings = load_settings(SECRET_KEY=None, SECRET_KEY_FILE=str(secret_file))
    assert settings["SECRET_KEY"] == "s" * 60


def _run_manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def _clean_environment():
    import os

    env = {k: v for k, v in os.environ.items() if k not in VARIABLES and k != "DJANGO_SETTINGS_MODULE"}
    env["SQLITE_PATH"] = ":memory:"
    return env


def test_without_secret_key_and_debug_off_the_app_refuses_to_start_in_one_line():
    result = _run_manage("check", env=_clean_environment())
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Configuration error: SECRET_KEY is not set: set SECRET_KEY (50+ random characters) or DEBUG=true for local use"
    ]


def test_check_deploy_reports_nothing_on_production_settings():
    env = _clean_environment() | {"SECRET_KEY": "p-" + "x7Kq9" * 12, "ALLOWED_HOSTS": "crm.example.com"}
    result = _run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_replicas_need_a_postgresql_primary(load_settings):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_REPLICA_URLS needs DATABASE_URL"):
        load_settings(DATABASE_REPLICA_URLS="postgresql://replica.internal/studio")


def test_each_replica_becomes_a_database_routed_by_the_primary_router(load_settings):
    loaded = load_settings(
        DATABASE_URL="postgresql://studio@primary.internal/studio",
        DATABASE_REPLICA_URLS="postgresql://studio@replica-1.internal/studio, postgresql://studio@replica-2.internal/studio",
    )

    assert [loaded["DATABASES"][alias]["HOST"] for alias in ("replica_1", "replica_2")] == [
        "replica-1.internal",
        "replica-2.internal",
    ]
    assert loaded["DATABASE_ROUTERS"] == ["photostudio.replicas.PrimaryRouter"]
    assert "photostudio.replicas.ReadYourWritesMiddleware" in loaded["MIDDLEWARE"]


def test_a_replica_url_that_is_not_postgresql_is_refused(load_settings):
    with pytest.raises(ImproperlyConfigured, match="entry 1"):
        load_settings(
            DATABASE_URL="postgresql://studio@primary.internal/studio",
            DATABASE_REPLICA_URLS="mysql://replica.internal/studio",
        )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql://studio:pw@db:five/crm", "is not a valid URL"),
        ("postgresql://studio:pw@db:99999/crm", "is not a valid URL"),
        ("postgresql://studio:pw@[db/crm", "is not a valid URL"),
        ("postgresql://studio:pw@db:5432/", "names no database"),
    ],
)
def test_a_malformed_database_url_is_refused_naming_the_variable(load_settings, url, problem):
    with pytest.raises(ImproperlyConfigured, match=f"^DATABASE_URL {problem}"):
        load_settings(DATABASE_URL=url)


def test_a_malformed_replica_url_is_refused_naming_its_entry(load_settings):
    with pytest.raises(ImproperlyConfigured, match="^DATABASE_REPLICA_URLS entry 2 is not a valid URL"):
        load_settings(
            DATABASE_URL="postgresql://studio@primary.internal/studio",
            DATABASE_REPLICA_URLS="postgresql://studio@replica-1.internal/studio,postgresql://studio@replica-2:x/studio",
        )


def test_a_malformed_database_url_stops_manage_py_in_one_line():
    env = _clean_environment() | {"SECRET_KEY": "p-" + "x7Kq9" * 12, "DATABASE_URL": "postgresql://s:pw@db:five/crm"}
    result = _run_manage("check", env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Configuration error: DATABASE_URL is not a valid URL: write it as postgresql://user:password@host:port/name, "
        "with special characters in the password %-encoded"
    ]


@pytest.mark.parametrize(
    "url",
    ["redis://cache:six/0", "redis://cache:70000/0", "redis://cache:6379/two", "redis://cache:6379/0?socket_timeout=x"],
)
def test_a_malformed_redis_url_is_refused_naming_the_variable(load_settings, url):
    # redis-py would read a database that is no number as 0, sharing another deployment's keys,
    # and the rest only fail at the first cache call or when the worker connects.
    with pytest.raises(ImproperlyConfigured, match="^REDIS_URL is not a valid URL"):
        load_settings(REDIS_URL=url)


def test_a_redis_url_with_password_and_tls_is_accepted(load_settings):
    settings = load_settings(REDIS_URL="rediss://:s%40cret@cache.internal:6380/2")
    assert settings["CACHES"]["default"]["LOCATION"] == "rediss://:s%40cret@cache.internal:6380/2"


def _env_example_value(name):
    for line in (PROJECT_DIR / ".env.example").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1]
    raise AssertionError(f"{name} is not in .env.example")


@pytest.mark.parametrize(
    "placeholder",
    [
        _env_example_value("SECRET_KEY"),
        "change-me",
        "CHANGE_ME-" + "x" * 50,
        "django-insecure-" + "a1b2c3" * 9,
        "s3cr3t",
    ],
)
def test_placeholder_or_short_secret_key_is_refused_with_debug_off(load_settings, placeholder):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is a placeholder or shorter than 50 characters"):
        load_settings(SECRET_KEY=placeholder)


def test_placeholder_secret_key_is_accepted_for_local_use_with_debug_on(load_settings):
    settings = load_settings(SECRET_KEY="change-me", DEBUG="true")
    assert settings["SECRET_KEY"] == "change-me"


def test_placeholder_secret_key_stops_manage_py_in_one_line():
    env = _clean_environment() | {"SECRET_KEY": _env_example_value("SECRET_KEY")}
    result = _run_manage("check", env=env)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("Configuration error: SECRET_KEY is a placeholder")


@pytest.mark.parametrize(
    "placeholder", [_env_example_value("METRICS_TOKEN"), "change-me-metrics-token-0123", "short-token"]
)
def test_placeholder_or_short_metrics_token_is_refused_with_debug_off(load_settings, placeholder):
    # .env.example's token is public: a deployment keeping it would show /metrics to anyone.
    with pytest.raises(ImproperlyConfigured, match="METRICS_TOKEN is a placeholder or shorter than 20 characters"):
        load_settings(METRICS_TOKEN=placeholder)


def test_placeholder_metrics_token_is_accepted_for_local_use_with_debug_on(load_settings):
    settings = load_settings(METRICS_TOKEN=_env_example_value("METRICS_TOKEN"), DEBUG="true")
    assert settings["METRICS_TOKEN"] == _env_example_value("METRICS_TOKEN")


def test_a_random_metrics_token_is_accepted(load_settings):
    assert load_settings(METRICS_TOKEN="Xq3v9-LmT0pR2sW8yZ4bN6cD")["METRICS_TOKEN"] == "Xq3v9-LmT0pR2sW8yZ4bN6cD"


def test_pool_holds_one_connection_per_sync_worker_by_default(load_settings):
    settings = load_settings(DATABASE_URL="postgresql://studio:pw@db:5432/crm")
    pool = settings["DATABASES"]["default"]["OPTIONS"]["pool"]
    assert (pool["min_size"], pool["max_size"]) == (1, 1)


def test_pool_holds_one_connection_per_gunicorn_thread(load_settings):
    settings = load_settings(DATABASE_URL="postgresql://studio:pw@db:5432/crm", GUNICORN_THREADS="4")
    pool = settings["DATABASES"]["default"]["OPTIONS"]["pool"]
    assert (pool["min_size"], pool["max_size"]) == (4, 4)


def test_max_overflow_lets_a_pool_grow_past_its_size(load_settings):
    settings = load_settings(
        DATABASE_URL="postgresql://studio:pw@db:5432/crm", GUNICORN_THREADS="8", DATABASE_POOL_SIZE="2",
        DATABASE_MAX_OVERFLOW="6",
    )  # fmt: skip
    pool = settings["DATABASES"]["default"]["OPTIONS"]["pool"]
    assert (pool["min_size"], pool["max_size"]) == (2, 8)


def test_event_bus_follows_redis_url_by_default(load_settings):
    assert load_settings()["EVENT_BUS_TYPE"] == "memory"
    on_redis = load_settings(REDIS_URL="redis://cache:6379/0")
    assert on_redis["EVENT_BUS_TYPE"] == "redis"
    assert on_redis["CELERY_TASK_ALWAYS_EAGER"] is False
    assert on_redis["WEB_CONCURRENCY"] == 3


@pytest.mark.parametrize(("redis_url", "bus"), [("redis://cache:6379/0", "redis"), (None, "memory")])
def test_an_empty_event_bus_type_follows_redis_url_as_env_example_says(load_settings, redis_url, bus):
    assert load_settings(EVENT_BUS_TYPE="", REDIS_URL=redis_url)["EVENT_BUS_TYPE"] == bus


def test_memory_event_bus_runs_handlers_in_process_even_with_a_redis_cache(load_settings):
    settings = load_settings(REDIS_URL="redis://cache:6379/0", EVENT_BUS_TYPE="memory")
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is True
    assert settings["CELERY_BROKER_URL"] == "memory://"
    assert settings["CACHES"]["default"]["BACKEND"] == "photostudio.redis_cache.FailOpenRedisCache"
    assert settings["WEB_CONCURRENCY"] == 1


@pytest.mark.parametrize(("variable", "value"), [("WEB_CONCURRENCY", "3"), ("APP_REPLICAS", "2")])
def test_memory_event_bus_with_several_app_processes_is_refused_in_production(load_settings, variable, value):
    with pytest.raises(ImproperlyConfigured, match="EVENT_BUS_TYPE=memory serves one app process"):
        load_settings(EVENT_BUS_TYPE="memory", **{variable: value})


def test_memory_event_bus_with_several_processes_is_allowed_with_debug_on(load_settings):
    settings = load_settings(EVENT_BUS_TYPE="memory", WEB_CONCURRENCY="3", DEBUG="true")
    assert settings["WEB_CONCURRENCY"] == 3


def test_unknown_event_bus_stops_manage_py_in_one_line():
    env = _clean_environment() | {"SECRET_KEY": "p-" + "x7Kq9" * 12, "EVENT_BUS_TYPE": "kafka"}
    result = _run_manage("check", env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Configuration error: EVENT_BUS_TYPE='kafka' must be one of memory, redis"
    ]


def test_log_file_adds_a_rotating_json_handler(load_settings, tmp_path):
    settings = load_settings(LOG_FILE=str(tmp_path / "app.log"), LOG_FILE_MAX_BYTES="2048", LOG_FILE_BACKUPS="3")
    handler = settings["LOGGING"]["handlers"]["file"]
    assert handler["class"] == "logging.handlers.RotatingFileHandler"
    assert (handler["filename"], handler["maxBytes"], handler["backupCount"]) == (str(tmp_path / "app.log"), 2048, 3)
    assert handler["formatter"] == "json"
    assert set(settings["LOGGING"]["root"]["handlers"]) == {"stdout", "file"}


def test_a_log_file_that_cannot_be_written_is_refused_naming_the_variable(load_settings, tmp_path):
    with pytest.raises(ImproperlyConfigured, match=f"^LOG_FILE='{tmp_path}' cannot be written: Is a directory"):
        load_settings(LOG_FILE=str(tmp_path))


def test_a_log_file_that_cannot_be_written_stops_manage_py_in_one_line(tmp_path):
    env = _clean_environment() | {"SECRET_KEY": "p-" + "x7Kq9" * 12, "LOG_FILE": str(tmp_path)}
    result = _run_manage("check", env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Configuration error: LOG_FILE='{tmp_path}' cannot be written: Is a directory"
    ]


@pytest.mark.parametrize("value", ["", "Photo Studio", "<>"])
def test_a_sender_without_an_address_is_refused_naming_the_variable(load_settings, value):
    # Every notification would leave with it and be refused by the SMTP server, one by one, later.
    with pytest.raises(ImproperlyConfigured, match=f"^DEFAULT_FROM_EMAIL={value!r} holds no e-mail address"):
        load_settings(DEFAULT_FROM_EMAIL=value)


@pytest.mark.parametrize("value", ["studio@example.com", "Photo Studio <studio@example.com>"])
def test_a_sender_with_an_address_is_accepted(load_settings, value):
    assert load_settings(DEFAULT_FROM_EMAIL=value)["DEFAULT_FROM_EMAIL"] == value


def test_email_file_path_keeps_e_mails_as_files_when_there_is_no_smtp_host(load_settings, tmp_path):
    settings = load_settings(EMAIL_FILE_PATH=str(tmp_path))
    assert settings["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert settings["EMAIL_FILE_PATH"] == str(tmp_path)


def test_the_redis_pool_holds_a_connection_per_serving_thread(load_settings):
    assert load_settings()["REDIS_POOL_SIZE"] == 10
    assert load_settings(GUNICORN_THREADS="16")["REDIS_POOL_SIZE"] == 16
    with pytest.raises(ImproperlyConfigured, match="REDIS_POOL_SIZE=3 is below the minimum of 4"):
        load_settings(GUNICORN_THREADS="4", REDIS_POOL_SIZE="3")


def test_tracked_cache_versions_are_asked_for_again_each_second_by_default(load_settings):
    assert load_settings()["CACHE_TRACKING_MAX_AGE_MS"] == 1000
    assert load_settings(CACHE_TRACKING_MAX_AGE_MS="0")["CACHE_TRACKING_MAX_AGE_MS"] == 0
    with pytest.raises(ImproperlyConfigured, match="CACHE_TRACKING_MAX_AGE_MS"):
        load_settings(CACHE_TRACKING_MAX_AGE_MS="-1")


def _variables_read_by(path: Path) -> set[str]:
    """The environment variables a module reads: env_*("NAME", ...) and os.environ.get("NAME")."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        called = ast.unparse(node.func)
        if called.startswith("env_") or called == "os.environ.get":
            names.add(node.args[0].value)
    return names


def test_env_example_names_every_variable_the_settings_and_gunicorn_read():
    # The README sends readers to .env.example for "every environment variable, with its default".
    env_example = (PROJECT_DIR / ".env.example").read_text()
    read = _variables_read_by(SETTINGS_FILE) | _variables_read_by(PROJECT_DIR / "photostudio" / "gunicorn.py")

    assert sorted(name for name in read if not re.search(rf"\b{name}\b", env_example)) == []


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_celery_queue_is_the_default_queue_not_a_queue_without_a_name(load_settings, value):
    assert load_settings(CELERY_QUEUE=value)["CELERY_TASK_DEFAULT_QUEUE"] == "celery"
