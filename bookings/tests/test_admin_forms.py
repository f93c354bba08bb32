import pytest
from django.urls import reverse

from bookings.admin_forms import SpaceAdminForm
from bookings.models import WEEKDAYS, Space
from bookings.tests.factories import SpaceFactory
from employees.tests.factories import verified_login

pytestmark = pytest.mark.django_db

WEEK = {day: ["08:00", "22:00"] for day in WEEKDAYS[:5]} | {"sat": ["10:00", "24:00"], "sun": None}


def posted(space: Space, **changes) -> dict:
    """What the admin's Space form posts back for ``space`` unchanged, with ``changes`` applied."""
    form = SpaceAdminForm(instance=space)
    data = {}
    for field in form:
        widget = field.field.widget
        if field.name == "opening_hours":
            for row in widget.get_context(field.html_name, field.value(), {"id": field.auto_id})["widget"]["days"]:
                if row["open"]:
                    data[f"{row['field']}_open"] = "on"
                data |= {f"{row['field']}_from": row["from"], f"{row['field']}_until": row["until"]}
        elif field.name == "is_active":
            if field.value():
                data["is_active"] = "on"
        else:
            data[field.html_name] = field.value()
    return data | changes


def test_the_week_comes_back_unchanged_when_saved_as_shown():
    space = SpaceFactory(opening_hours=WEEK)

    form = SpaceAdminForm(posted(space), instance=space)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["opening_hours"] == WEEK
    assert "opening_hours" not in form.changed_data


def test_midnight_closing_shows_as_00_00_and_is_stored_as_24_00():
    space = SpaceFactory(opening_hours=WEEK)

    data = posted(space)

    assert data["opening_hours_sat_until"] == "00:00"
    assert SpaceAdminForm(data, instance=space).is_valid()


def test_a_missing_day_shows_as_closed():
    space = SpaceFactory(opening_hours={"mon": ["09:00", "17:00"]})

    data = posted(space)

    assert "opening_hours_mon_open" in data
    assert "opening_hours_tue_open" not in data


def test_unticking_open_closes_the_day():
    space = SpaceFactory(opening_hours=WEEK)
    data = posted(space)
    del data["opening_hours_wed_open"]

    form = SpaceAdminForm(data, instance=space)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["opening_hours"]["wed"] is None
    assert form.changed_data == ["opening_hours"]


def test_an_open_day_without_times_is_refused_naming_the_day():
    space = SpaceFactory(opening_hours=WEEK)

    form = SpaceAdminForm(posted(space, opening_hours_tue_until=""), instance=space)

    assert form.errors["opening_hours"] == ["Tuesday: give the opening and the closing time as HH:MM, or untick Open."]


def test_closing_before_opening_is_refused_naming_each_day():
    space = SpaceFactory(opening_hours=WEEK)

    form = SpaceAdminForm(
        posted(space, opening_hours_mon_from="18:00", opening_hours_mon_until="09:00", opening_hours_fri_until="07:00"),
        instance=space,
    )

    assert form.errors["opening_hours"] == [
        "Monday: the space must close after it opens (18:00 – 09:00).",
        "Friday: the space must close after it opens (08:00 – 07:00).",
    ]


def test_seconds_sent_by_the_browser_are_read_as_minutes():
    space = SpaceFactory(opening_hours=WEEK)

    form = SpaceAdminForm(posted(space, opening_hours_thu_from="07:30:00"), instance=space)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["opening_hours"]["thu"] == ["07:30", "22:00"]


def test_a_refused_form_shows_the_times_as_typed(client, manager):
    space = SpaceFactory(opening_hours=WEEK)
    verified_login(client, manager)

    response = client.post(
        reverse("admin:bookings_space_change", args=[space.pk]),
        posted(space, opening_hours_mon_from="18:00", opening_hours_mon_until="09:00"),
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="opening_hours_mon_from" id="id_opening_hours_mon_from" value="18:00"' in page
    assert 'aria-label="Monday closes at"' in page
    space.refresh_from_db()
    assert space.opening_hours == WEEK
