import runpy
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

SETTINGS_FILE = Path(django_settings.BASE_DIR) / "photostudio" / "settings.py"
BOOKING_VARIABLES = [
    "BOOKING_MIN_DURATION_MINUTES",
    "BOOKING_MAX_DURATION_MINUTES",
    "BOOKING_UNDO_MINUTES",
    "BOOKING_EARLY_START_MINUTES",
    "PHONE_DEFAULT_REGION",
]


@pytest.fixture
def load_settings(monkeypatch):
    """Read settings.py afresh under the given booking variables, as a fresh process would."""

    def load(**env):
        for name in BOOKING_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("SECRET_KEY", "k" * 50)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return load


def test_booking_defaults(load_settings):
    loaded = load_settings()

    assert (loaded["BOOKING_MIN_DURATION_MINUTES"], loaded["BOOKING_MAX_DURATION_MINUTES"]) == (30, 720)
    assert loaded["PHONE_DEFAULT_REGION"] == "US"
    assert (loaded["BOOKING_UNDO_MINUTES"], loaded["BOOKING_EARLY_START_MINUTES"]) == (15, 30)


def test_booking_variables_are_read(load_settings):
    loaded = load_settings(
        BOOKING_MIN_DURATION_MINUTES="60", BOOKING_MAX_DURATION_MINUTES="480", PHONE_DEFAULT_REGION="de"
    )

    assert (loaded["BOOKING_MIN_DURATION_MINUTES"], loaded["BOOKING_MAX_DURATION_MINUTES"]) == (60, 480)
    assert loaded["PHONE_DEFAULT_REGION"] == "DE"


def test_undo_and_early_start_minutes_are_read(load_settings):
    loaded = load_settings(BOOKING_UNDO_MINUTES="5", BOOKING_EARLY_START_MINUTES="0")

    assert (loaded["BOOKING_UNDO_MINUTES"], loaded["BOOKING_EARLY_START_MINUTES"]) == (5, 0)


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"BOOKING_MIN_DURATION_MINUTES": "120", "BOOKING_MAX_DURATION_MINUTES": "60"}, "must not be below"),
        ({"BOOKING_MIN_DURATION_MINUTES": "0"}, "below the minimum of 1"),
        ({"BOOKING_MAX_DURATION_MINUTES": "two hours"}, "not a whole number"),
        ({"BOOKING_UNDO_MINUTES": "-1"}, "below the minimum of 0"),
        ({"BOOKING_EARLY_START_MINUTES": "half an hour"}, "not a whole number"),
        ({"PHONE_DEFAULT_REGION": "Atlantis"}, "PHONE_DEFAULT_REGION='Atlantis' must be one of"),
    ],
)
def test_bad_booking_variable_stops_start_up_naming_it(load_settings, env, complaint):
    with pytest.raises(ImproperlyConfigured, match=complaint):
        load_settings(**env)
