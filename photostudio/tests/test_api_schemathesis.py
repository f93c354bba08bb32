"""Schemathesis, as an integrator's CI would run it, against the live API and its live schema.

Every operation of /api/schema/ is exercised with positive and negative data through all of
Schemathesis' phases (the schema's examples, boundary coverage, fuzzing and stateful sequences
along the declared links), signed in as an admin (again whenever an operation ended the sign-in,
see ``schemathesis_hooks``). It passes when no answer is a 5xx and every answer matches the schema:
status, content type, headers and body; invalid requests must be refused with a 4xx.

``positive_data_acceptance`` is left out on purpose: it expects every schema-valid request to
succeed, but the studio's rules (opening hours, overlaps, capacity, who may do what) are not
expressible in OpenAPI, so a schema-valid booking can rightly be refused with 400, 403 or 409.
"""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bookings.models import BookingState
from bookings.tests.api import install_default_spaces
from bookings.tests.factories import (
    MONDAY_10_UTC,
    BookingFactory,
    BookingSeriesFactory,
    ClientFactory,
    PhotographerFactory,
)
from employees.models import Role
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory
from events.models import Delivery
from events.tests.factories import DeliveryFactory, WebhookEndpointFactory
from events.webhooks import WebhookResult

# The live server answers from its own thread and connection, so the data must be committed.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HOOKS_DIR = Path(__file__).resolve().parent
# Bounded so the run takes a couple of minutes: a few generated cases per operation besides the
# coverage phase's boundary values, and more scenarios for the stateful phase, which follows the
# schema's links (a new booking to its state, reschedule, client, ...). The seed is fixed so CI
# runs the same cases every time; set SCHEMATHESIS_SEED to explore others.
CONFIG = """
[generation]
max-examples = 5
database = "none"

[checks]
positive_data_acceptance.enabled = false

[phases.stateful]
max-steps = 8

[phases.stateful.generation]
max-examples = 40
"""
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20240115"))
# The stateful phase on the operations of the sequences below: more scenarios, shorter ones.
SEQUENCES_CONFIG = """
[generation]
database = "none"

[checks]
positive_data_acceptance.enabled = false

[phases.stateful]
max-steps = 5

[phases.stateful.generation]
max-examples = 100
"""
SEQUENCES = r"^(bookings_(list|retrieve|state|reschedule|history)|webhooks_(list|deliveries_list))$"
# Links the stateful phase must follow with real ids taken from the answers. Its walk is random,
# so the test names the first steps of the sequences, which it reliably takes: from the bookings
# list into a change of a booking, from the endpoints list to an endpoint's delivery log; test_api_docs
# checks that the schema declares the whole chain: detail, state change, reschedule, history.
BOOKING_CHANGES = {"POST /api/v1/bookings/{id}/state/", "POST /api/v1/bookings/{id}/reschedule/"}
WEBHOOK_DELIVERIES = ("GET /api/v1/webhooks/", "GET /api/v1/webhooks/{id}/deliveries/")


@pytest.fixture
def studio_data():
    """The guide's spaces, bookings in every state, their client and photographer, a webhook
    endpoint and a failed delivery to it, so that operations and the stateful phase's links find
    something to act on."""
    install_default_spaces()
    client = ClientFactory(full_name="John Doe", phone="+1234567890")
    photographer = PhotographerFactory()
    for days, state in enumerate(BookingState.values):
        BookingFactory(
            client=client, photographer=photographer, state=state, start=MONDAY_10_UTC + timedelta(days=days)
        )
    # Pending bookings for the stateful phase to confirm, reschedule and read the history of.
    for weeks in range(1, 7):
        BookingFactory(client=client, start=MONDAY_10_UTC + timedelta(weeks=weeks))
    # A weekly series for the series' operations to read, cancel and move.
    series = BookingSeriesFactory(client=client, count=3)
    for weeks in range(10, 13):
        BookingFactory(client=client, space=series.space, series=series, start=MONDAY_10_UTC + timedelta(weeks=weeks))
    endpoint = WebhookEndpointFactory()
    DeliveryFactory(handler=endpoint.handler_name, endpoint=endpoint, status=Delivery.Status.FAILED)


@pytest.fixture
def offline_webhooks(monkeypatch):
    """Webhook endpoints the fuzzer registers are neither resolved nor called: no network in tests."""
    monkeypatch.setattr("events.targets._resolve", lambda host, port: [])
    monkeypatch.setattr(
        "events.webhooks.send", lambda endpoint, event: WebhookResult(response_status=204, outcome="HTTP 204 (test)")
    )


def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_schema(
    live_server, settings, tmp_path, studio_data, offline_webhooks
):
    settings.MFA_REQUIRED_ROLES = []
    settings.API_THROTTLE_RATE = "1000000/minute"  # throttling has its own tests; here it would only cut coverage
    EmployeeFactory(username="schemathesis", role=Role.ADMIN)
    # The guide's login example signs in. Not as a second admin: the run's own admin is the last
    # one, which keeps fuzzed employee updates from demoting or deactivating the account it uses.
    EmployeeFactory(username="admin", role=Role.RECEPTIONIST, password="password")
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    sequences_config = tmp_path / "sequences.toml"
    sequences_config.write_text(SEQUENCES_CONFIG)

    # First, on the data as the fixture left it, the stateful phase alone on the operations of the
    # sequences: among the whole API's links a random walk rarely strings four of them together.
    outcome, followed = run_schemathesis(
        live_server, tmp_path, sequences_config, "--phases=stateful", f"--include-operation-id-regex={SEQUENCES}"
    )

    assert outcome["phases"]["stateful"]["status"] == "success"
    assert outcome["test_cases"]["with_failures"] == outcome["test_cases"]["errored"] == 0
    assert {target for source, target in followed if source == "GET /api/v1/bookings/"} & BOOKING_CHANGES
    assert WEBHOOK_DELIVERIES in followed

    outcome, _ = run_schemathesis(live_server, tmp_path, config)

    assert outcome["operations"]["tested"] == outcome["operations"]["total"] > 40
    assert {phase: result["status"] for phase, result in outcome["phases"].items()} == dict.fromkeys(
        ("examples", "coverage", "fuzzing", "stateful"), "success"
    )
    assert outcome["test_cases"]["with_failures"] == outcome["test_cases"]["errored"] == 0


def run_schemathesis(live_server, tmp_path, config, *arguments) -> tuple[dict, set[tuple[str, str]]]:
    """Run the Schemathesis CLI against the live server; its JSON summary and the links its
    stateful phase followed. Fails on any failed check."""
    report = config.with_suffix(".json")
    events = config.with_suffix(".ndjson")
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            f"--config-file={config}",
            "--no-color",
            "run",
            f"{live_server.url}/api/schema/",
            f"--seed={SEED}",
            "--workers=1",
            "--report=json,ndjson",
            f"--report-json-path={report}",
            f"--report-ndjson-path={events}",
            *arguments,
        ],
        env={
            "PATH": str(Path(sys.executable).parent),
            "PYTHONPATH": str(HOOKS_DIR),
            "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
            "STUDIO_API_ORIGIN": live_server.url,
            "STUDIO_API_USERNAME": "schemathesis",
            "STUDIO_API_PASSWORD": DEFAULT_PASSWORD,
        },
        cwd=tmp_path,  # where the CLI keeps its cache
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(run.stdout, run.stderr)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    outcome = json.loads(report.read_text())
    followed = links_followed(events)
    print(f"Schemathesis ran {outcome['test_cases']['generated']} test cases (seed {outcome['seed']}).")
    print(f"The stateful phase followed {len(followed)} links:", *sorted(followed), sep="\n  ")
    return outcome, followed


def links_followed(events: Path) -> set[tuple[str, str]]:
    """(source, target) operations of every link the stateful phase followed with the data it
    took from the answer, read from the run's NDJSON events."""
    followed = set()
    for line in events.read_text().splitlines():
        scenario = json.loads(line).get("ScenarioFinished")
        if not scenario or scenario.get("phase") != "stateful":
            continue
        for case in scenario["recorder"].get("cases", {}).values():
            transition = case.get("transition")
            if transition and case.get("is_transition_applied"):
                source, _, target = (part.strip() for part in transition["id"].split(" -> "))
                followed.add((source, target))
    return followed
