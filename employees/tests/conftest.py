from datetime import UTC, datetime

import pytest
import time_machine
from rest_framework.test import APIClient

# A fixed moment every time-sensitive test starts from (lockout windows, TOTP steps).
START = datetime(2030, 3, 4, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def clock():
    """Time frozen at START; ``clock.shift(seconds)`` moves it on."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller
