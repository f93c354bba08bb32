"""Closures in the admin: recorded and removed through the services, never edited, and recording
one over bookings lists them, linked."""

from datetime import UTC, date, datetime

import pytest
from django.contrib import admin
from django.contrib.admin.models import DELETION, LogEntry
from django.urls import reverse

from bookings import services
from bookings.admin import ClosureAdmin
from bookings.models import BookingState, Closure, local_instant
from bookings.tests.factories import BookingFactory, ClosureFactory, WaitlistEntryFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory, verified_login
from events.models import Event
from photostudio.tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 14)


def at(clock, day=MONDAY):
    return local_instant(day, clock)


def closure_form(space, **overrides):
    return {
        "space": str(space.pk) if space is not None else "",
        "start": "2030-01-14T12:00",
        "end": "2030-01-14T16:00",
        "reason": "Floor repainting",
        **overrides,
    }


def test_manager_records_a_closure_through_the_service(boss, manager, studio):
    response = boss.post(reverse("admin:bookings_closure_add"), closure_form(studio), follow=True)

    assert response.status_code == 200
    closure = Closure.objects.get()
    assert (closure.space, closure.start, closure.end, closure.created_by) == (
        studio,
        at("12:00"),
        at("16:00"),
        manager,
    )
    assert Event.objects.filter(type="closure.created", aggregate_id=str(closure.pk), actor=manager).exists()


def test_recording_a_closure_over_bookings_lists_them_with_links(boss, studio):
    booking = BookingFactory(space=studio, start=at("13:00"), end=at("14:00"), state=BookingState.CONFIRMED)

    response = boss.post(reverse("admin:bookings_closure_add"), closure_form(studio), follow=True)

    content = response.content.decode()
    assert "The closure meets 1 booking still holding the space" in content
    assert f'href="/bookings/{booking.pk}/"' in content
    booking.refresh_from_db()
    assert booking.state == BookingState.CONFIRMED


def test_recording_a_closure_over_a_waiting_clients_slot_names_their_entry(boss, studio):
    entry = WaitlistEntryFactory(space=studio, start=at("13:00"), end=at("14:00"))

    response = boss.post(reverse("admin:bookings_closure_add"), closure_form(studio), follow=True)

    content = response.content.decode()
    assert "1 waiting client’s slot is in the closure" in content
    assert f'href="/waitlist/{entry.pk}/"' in content


def test_closure_of_the_whole_studio_is_recorded_without_a_space(boss):
    boss.post(reverse("admin:bookings_closure_add"), closure_form(None, reason="Holidays"))

    assert Closure.objects.get().space is None


def test_closure_ending_before_it_starts_is_refused_on_the_form(boss, studio):
    response = boss.post(reverse("admin:bookings_closure_add"), closure_form(studio, end="2030-01-14T11:00"))

    assert response.status_code == 200
    assert "The closure must end after it starts." in response.content.decode()
    assert not Closure.objects.exists()


@pytest.mark.parametrize("role", ["manager", "admin"])  # an admin holds every permission, change_closure too
def test_closure_cannot_be_changed_in_the_admin(client, studio, role, request):
    verified_login(client, request.getfixturevalue(role))
    closure = ClosureFactory(space=studio, reason="Before")
    address = reverse("admin:bookings_closure_change", args=[closure.pk])
    page = client.get(address)

    response = client.post(address, closure_form(studio, reason="After"))

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert response.status_code == 403
    assert list(Closure.objects.values_list("reason", flat=True)) == ["Before"]


def test_manager_removes_a_closure_through_the_service(boss, manager, studio):
    closure = ClosureFactory(space=studio)

    response = boss.post(reverse("admin:bookings_closure_delete", args=[closure.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not Closure.objects.exists()
    assert Event.objects.filter(type="closure.deleted", aggregate_id=str(closure.pk), actor=manager).exists()
    logged = LogEntry.objects.filter(action_flag=DELETION)
    assert [(entry.object_id, entry.user_id) for entry in logged] == [(str(closure.pk), manager.pk)]


@pytest.mark.postgres  # SQLite's IMMEDIATE transactions take turns: the colleague would wait for this one
@pytest.mark.django_db(transaction=True)
def test_a_closure_another_manager_removed_meanwhile_is_reported_gone_not_a_server_error(
    boss, manager, studio, monkeypatch
):
    closure = ClosureFactory(space=studio)
    colleague = EmployeeFactory(role=Role.MANAGER)
    read = ClosureAdmin.get_object

    def read_then_colleague_removes_it(self, *args, **kwargs):
        found = read(self, *args, **kwargs)
        # In the colleague's own request: on its own connection, committed before this one goes on.
        assert run_at_once([lambda: services.delete_closure(closure=closure, actor=colleague)]) == [None]
        return found

    monkeypatch.setattr(ClosureAdmin, "get_object", read_then_colleague_removes_it)

    response = boss.post(reverse("admin:bookings_closure_delete", args=[closure.pk]), {"post": "yes"}, follow=True)

    page = response.content.decode()
    assert (response.status_code, response.redirect_chain[-1][0]) == (200, reverse("admin:bookings_closure_changelist"))
    assert "This closure was removed meanwhile." in page
    assert "deleted successfully" not in page
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()  # the colleague removed it, not boss
    assert not Closure.objects.exists()
    assert Event.objects.filter(type="closure.deleted").count() == 1


@pytest.mark.postgres  # SQLite's IMMEDIATE transactions take turns: the colleague would wait for this one
@pytest.mark.django_db(transaction=True)
def test_selected_closures_log_only_the_removals_this_manager_made(boss, manager, studio, monkeypatch):
    removed_by_colleague, removed_here = ClosureFactory(space=studio), ClosureFactory(space=None)
    colleague = EmployeeFactory(role=Role.MANAGER)
    listed = ClosureAdmin.get_deleted_objects

    def list_then_colleague_removes_one(self, *args, **kwargs):
        found = listed(self, *args, **kwargs)
        # In the colleague's own request: on its own connection, committed before this one goes on.
        assert run_at_once([lambda: services.delete_closure(closure=removed_by_colleague, actor=colleague)]) == [None]
        return found

    monkeypatch.setattr(ClosureAdmin, "get_deleted_objects", list_then_colleague_removes_one)

    response = boss.post(
        reverse("admin:bookings_closure_changelist"),
        {"action": "delete_selected", "_selected_action": [removed_by_colleague.pk, removed_here.pk], "post": "yes"},
        follow=True,
    )

    assert "This closure was removed meanwhile." in response.content.decode()
    logged = LogEntry.objects.filter(action_flag=DELETION)
    assert [(entry.object_id, entry.user_id) for entry in logged] == [(str(removed_here.pk), manager.pk)]
    assert not Closure.objects.exists()
    assert Event.objects.filter(type="closure.deleted").count() == 2


def test_selected_closures_are_each_removed_with_their_log_entry_or_not_at_all(boss, manager, studio, monkeypatch):
    closures = [ClosureFactory(space=studio), ClosureFactory(space=None)]
    log, logged = admin.ModelAdmin.log_deletions, []

    def log_the_first_only(self, request, removed):
        if logged:
            raise RuntimeError("the log could not be written")
        logged.extend(closure.pk for closure in removed)
        return log(self, request, removed)

    monkeypatch.setattr(admin.ModelAdmin, "log_deletions", log_the_first_only)

    with pytest.raises(RuntimeError):
        boss.post(
            reverse("admin:bookings_closure_changelist"),
            {"action": "delete_selected", "_selected_action": [c.pk for c in closures], "post": "yes"},
        )

    (removed,) = logged
    assert list(Closure.objects.values_list("pk", flat=True)) == [c.pk for c in closures if c.pk != removed]
    assert [entry.object_id for entry in LogEntry.objects.filter(action_flag=DELETION)] == [str(removed)]
    assert Event.objects.filter(type="closure.deleted").count() == 1


def test_manager_removes_selected_closures_each_with_its_event(boss, manager, studio):
    closures = [ClosureFactory(space=studio), ClosureFactory(space=None)]

    boss.post(
        reverse("admin:bookings_closure_changelist"),
        {"action": "delete_selected", "_selected_action": [c.pk for c in closures], "post": "yes"},
    )

    assert not Closure.objects.exists()
    assert Event.objects.filter(type="closure.deleted").count() == 2
    logged = LogEntry.objects.filter(action_flag=DELETION, user=manager)
    assert sorted(int(entry.object_id) for entry in logged) == sorted(c.pk for c in closures)


def test_manager_browses_and_searches_closures(boss, studio):
    ClosureFactory(space=studio)
    ClosureFactory(space=None)

    response = boss.get(reverse("admin:bookings_closure_changelist"), {"q": "Maint"})

    assert response.status_code == 200
    assert "The studio" in response.content.decode()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "2026-03-29T02:30",
            "02:30 does not exist on Sun 29 Mar 2026: the clocks go forward from 02:00 to 03:00 that night. "
            "Choose a time before 02:00 or from 03:00 on.",
        ),
        (
            "2026-10-25T02:30",
            "02:30 happens twice on Sun 25 Oct 2026, as 02:30 CEST (first) and 02:30 CET (second): "
            "the clocks go back from 03:00 to 02:00 that night. Type the zone after the time to say which: "
            '"2026-10-25 02:30 CEST" for the first, "2026-10-25 02:30 CET" for the second.',
        ),
        (
            "2026-03-29T02:30+01:00",
            "02:30 does not exist on Sun 29 Mar 2026: the clocks go forward from 02:00 to 03:00 that night. "
            "Choose a time before 02:00 or from 03:00 on.",
        ),
        (
            "2026-10-25 02:30 +05:00",
            "The studio's clock shows 02:30 on Sun 25 Oct 2026 as 02:30 CEST (+02:00) and 02:30 CET (+01:00), "
            "not at +05:00.",
        ),
        (
            "2026-10-25 12:00 CEST",
            "The studio's clock shows 12:00 on Sun 25 Oct 2026 as 12:00 CET (+01:00), not at CEST.",
        ),
    ],
)
def test_a_closure_time_the_clocks_skip_or_repeat_is_refused_saying_so(boss, studio, settings, typed, message):
    settings.TIME_ZONE = "Europe/Berlin"

    response = boss.post(
        reverse("admin:bookings_closure_add"), closure_form(studio, start=typed, end="2026-10-26T12:00")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["start"] == [message]
    assert not Closure.objects.exists()


@pytest.mark.parametrize(
    ("typed", "recorded"),
    [
        ("2026-10-25 02:30 CEST", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("2026-10-25 02:30 CET", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
        ("2026-10-25 02:30 cet", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
        ("2026-10-25T02:30+02:00", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("2026-10-25 02:30 +01:00", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
    ],
)
def test_a_closure_time_the_clocks_repeat_is_recorded_at_the_showing_its_zone_names(
    boss, studio, settings, typed, recorded
):
    settings.TIME_ZONE = "Europe/Berlin"

    response = boss.post(
        reverse("admin:bookings_closure_add"), closure_form(studio, start=typed, end="2026-10-26 12:00")
    )

    assert response.status_code == 302
    assert Closure.objects.get().start == recorded


def test_the_closure_times_are_typed_in_a_box_that_takes_a_zone(boss):
    response = boss.get(reverse("admin:bookings_closure_add"))

    start = response.context["adminform"].form["start"]
    assert 'type="text"' in str(start)
    assert "datetime-local" not in str(start)


def test_a_closure_ending_at_the_first_showing_of_a_time_before_its_start_at_the_second_is_refused(
    boss, studio, settings
):
    settings.TIME_ZONE = "Europe/Berlin"

    response = boss.post(
        reverse("admin:bookings_closure_add"),
        closure_form(studio, start="2026-10-25 02:30 CET", end="2026-10-25 02:45 CEST"),
    )

    assert response.status_code == 200
    assert "The closure must end after it starts." in response.content.decode()
    assert not Closure.objects.exists()
