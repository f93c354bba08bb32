"""docker-compose.yml, checked without Docker: against the Compose specification's JSON schema
and for what the first boot depends on.

docker/compose-spec.json is schema/compose-spec.json of github.com/compose-spec/compose-spec
(Apache-2.0) at commit 00655e2222608fa6eaecdf12ac5195889ca2244a, unchanged."""

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
ONE_SHOT_SERVICES = {"migrate", "certificate"}
POSTGRES_RESERVED_CONNECTIONS = 3  # superuser_reserved_connections' default


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())


def _with_defaults(value) -> str:
    """Interpolate ${NAME:-default} as Compose does when NAME is not set."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def test_compose_file_follows_the_compose_specification(compose):
    schema = json.loads((PROJECT_DIR / "docker" / "compose-spec.json").read_text())
    jsonschema.validate(compose, schema, cls=jsonschema.Draft7Validator)


def test_the_proxy_is_the_only_service_published(compose):
    published = {name: service["ports"] for name, service in compose["services"].items() if "ports" in service}
    assert published == {"proxy": ["80:80", "443:443"]}


@pytest.mark.parametrize("service", ["app", "worker", "beat"])
def test_app_worker_and_beat_start_after_migrations_succeeded(compose, service):
    depends_on = compose["services"][service]["depends_on"]
    assert depends_on["migrate"] == {"condition": "service_completed_successfully"}


def test_every_long_running_service_has_a_health_check(compose):
    long_running = set(compose["services"]) - ONE_SHOT_SERVICES
    assert {name for name in long_running if "healthcheck" in compose["services"][name]} == long_running


def test_connection_budget_of_the_defaults_fits_postgresql(compose):
    services = compose["services"]
    environment = {key: _with_defaults(value) for key, value in services["app"]["environment"].items()}
    pool = 1  # DATABASE_POOL_SIZE's default: one connection per gunicorn thread or Celery process
    budget = (
        int(_with_defaults(services["app"]["deploy"]["replicas"])) * int(environment["WEB_CONCURRENCY"]) * pool
        + int(_with_defaults(services["worker"]["deploy"]["replicas"])) * int(environment["CELERY_CONCURRENCY"]) * pool
        + pool  # beat
        + pool  # migrate
    )
    max_connections = int(_with_defaults(services["postgres"]["command"][-1]).split("=")[1])
    assert budget == 15
    assert budget <= max_connections - POSTGRES_RESERVED_CONNECTIONS


def test_secrets_local_state_and_history_stay_out_of_the_image():
    ignored = set((PROJECT_DIR / ".dockerignore").read_text().split())
    assert {".env", ".venv/", ".git/", "db.sqlite3*", ".demo-credentials", "test-artifacts/"} <= ignored
