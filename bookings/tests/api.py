"""Helpers for the API tests: a client acting as an employee, a valid booking body, the fresh
install's spaces."""

import importlib
from datetime import datetime, timedelta

from django.apps import apps
from rest_framework.test import APIClient


def api_as(employee) -> APIClient:
    """An API client acting as ``employee`` (token sign-in itself is tested in employees)."""
    client = APIClient()
    client.force_authenticate(employee)
    return client


def booking_body(space, start: datetime, *, hours: float = 2, **fields) -> dict:
    """A create-booking body for ``space`` from the aware ``start``, overridden by ``fields``."""
    return {
        "client_name": "John Doe",
        "client_phone": "+1234567890",
        "start_time": start.isoformat(),
        "end_time": (start + timedelta(hours=hours)).isoformat(),
        "space_type": space.slug,
        "people_count": 2,
        **fields,
    }


def install_default_spaces() -> None:
    """The spaces a fresh install has (migration 0003), also after a transactional test emptied
    the database (its flush leaves only what post_migrate recreates: permissions and role groups)."""
    importlib.import_module("bookings.migrations.0003_default_spaces").create_spaces(apps, None)
