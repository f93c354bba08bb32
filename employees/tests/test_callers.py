"""The cached "who is calling" record: cheap requests that still notice every change at once."""

import pickle
from datetime import timedelta

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from bookings.tests.factories import BookingFactory
from employees import callers, services
from employees.authentication import SignInJWTAuthentication
from employees.models import Employee, Role, SignIn
from employees.tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
PROFILE = "/api/v1/employees/profile"


@pytest.fixture
def desk(api_client):
    """A receptionist signed in with an API token; ``desk.api`` sends it."""
    employee = EmployeeFactory(username="desk", role=Role.RECEPTIONIST)
    pair = api_client.post(LOGIN, {"username": "desk", "password": "correct-horse-battery-staple"}).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    employee.api, employee.access_token = api_client, pair["access_token"]
    return employee


def test_an_authenticated_read_with_the_caller_cached_costs_at_most_one_query(desk, django_assert_max_num_queries):
    first = desk.api.get(PROFILE)

    with django_assert_max_num_queries(1):
        again = desk.api.get(PROFILE)

    assert again.status_code == 200
    assert again.json() == first.json()


def test_a_profile_read_asks_the_cache_for_versions_once(desk, version_reads):
    desk.api.get(PROFILE)
    version_reads.clear()

    assert desk.api.get(PROFILE).status_code == 200

    assert version_reads == [sorted(["ns:mfa", f"ns:employee:{desk.pk}", "ns:permissions"])]


@pytest.mark.redis
def test_a_profile_read_costs_no_redis_round_trip(desk, redis_commands, clock_stopped_and_versions_kept):
    desk.api.get(PROFILE)  # starts the namespaces' versions
    desk.api.get(PROFILE)  # reads them on the connection Redis tracks them on
    redis_commands.clear()

    assert desk.api.get(PROFILE).status_code == 200

    assert redis_commands == []  # the versions as Redis tracks them, the throttle's count from its lease


def test_an_mfa_device_added_through_one_instance_shows_in_the_profile_of_another_at_once(desk, app_instances):
    with app_instances("b"):
        assert desk.api.get(PROFILE).json()["mfa"]["enabled"] is False

    with app_instances("a"):
        TOTPDevice.objects.create(user=desk, name="phone", confirmed=True)

    with app_instances("b"):
        assert desk.api.get(PROFILE).json()["mfa"]["enabled"] is True


def test_a_revoked_sign_in_is_refused_at_once_by_another_app_instance(desk, app_instances):
    with app_instances("b"):
        assert desk.api.get(PROFILE).status_code == 200

    with app_instances("a"):
        services.revoke_sign_in(sign_in=SignIn.objects.get(employee=desk), actor=desk)

    with app_instances("b"):
        refused = desk.api.get(PROFILE)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "This sign-in was ended; log in again."


def test_a_role_change_changes_the_callers_permissions_at_once(desk, app_instances):
    with app_instances("b"):
        assert "bookings.add_client" in desk.api.get(PROFILE).json()["permissions"]

    with app_instances("a"):
        services.update_employee(employee=desk, actor=EmployeeFactory(role=Role.ADMIN), role=Role.PHOTOGRAPHER)

    with app_instances("b"):
        profile = desk.api.get(PROFILE).json()
    assert profile["role"] == "photographer"
    assert "bookings.add_client" not in profile["permissions"]


def test_a_deactivated_employee_is_refused_at_once_by_another_app_instance(desk, app_instances):
    with app_instances("b"):
        assert desk.api.get(PROFILE).status_code == 200

    with app_instances("a"):
        services.update_employee(employee=desk, actor=EmployeeFactory(role=Role.ADMIN), is_active=False)

    with app_instances("b"):
        assert desk.api.get(PROFILE).status_code == 401


def test_the_cached_record_keeps_no_password_hash(desk):
    record, _ = callers.caller(employee_id=desk.pk, sign_in_id=SignIn.objects.get(employee=desk).pk)

    assert "password" not in dict(record.employee_fields)


def test_with_redis_unreachable_the_caller_is_read_from_the_database(desk, dead_redis, rf):
    request = rf.get(PROFILE, HTTP_AUTHORIZATION=f"Bearer {desk.access_token}")

    employee, _ = SignInJWTAuthentication().authenticate(request)

    assert (employee.pk, employee.has_perm("bookings.add_client")) == (desk.pk, True)


@pytest.mark.parametrize("role", Role.values)
def test_the_callers_remembered_permissions_are_djangos_answers(role):
    employee = EmployeeFactory(role=role)
    sign_in = SignIn.objects.create(
        employee=employee, channel=SignIn.Channel.API, expires_at=timezone.now() + timedelta(days=1)
    )
    record, _ = callers.caller(employee_id=employee.pk, sign_in_id=sign_in.pk)
    caller, fresh = record.employee(), Employee.objects.get(pk=employee.pk)
    codes = [
        f"{app}.{codename}" for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    ]

    asked_twice = [(caller.has_perm(code), caller.has_perm(code)) for code in codes]

    assert asked_twice == [(fresh.has_perm(code),) * 2 for code in codes]


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("active", [True, False])
def test_the_callers_answers_about_one_booking_are_djangos(role, active):
    employee = EmployeeFactory(role=role, is_active=active)
    booking = BookingFactory()
    caller, fresh = _caller_of(employee), Employee.objects.get(pk=employee.pk)
    codes = [f"bookings.{codename}" for codename in Permission.objects.values_list("codename", flat=True)]

    assert [caller.has_perm(code, booking) for code in codes] == [fresh.has_perm(code, booking) for code in codes]


class _GrantsEveryBooking:
    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm, obj=None):
        return obj is not None and perm == "bookings.delete_booking"


def test_a_backend_granting_a_permission_on_one_booking_is_asked(settings):
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, f"{__name__}._GrantsEveryBooking"]
    caller = _caller_of(EmployeeFactory(role=Role.PHOTOGRAPHER))

    assert caller.has_perm("bookings.delete_booking", BookingFactory())
    assert not caller.has_perm("bookings.delete_booking")


def _caller_of(employee) -> Employee:
    sign_in = SignIn.objects.create(
        employee=employee, channel=SignIn.Channel.API, expires_at=timezone.now() + timedelta(days=1)
    )
    record, _ = callers.caller(employee_id=employee.pk, sign_in_id=sign_in.pk)
    return record.employee()


def test_a_callers_role_change_drops_its_remembered_permissions(desk):
    record, _ = callers.caller(employee_id=desk.pk, sign_in_id=SignIn.objects.get(employee=desk).pk)
    caller = record.employee()
    assert not caller.has_perm("bookings.undo_booking_state_change")

    caller.role = Role.MANAGER
    caller.save()

    assert caller.has_perm("bookings.undo_booking_state_change")
    record_after, _ = callers.caller(employee_id=desk.pk, sign_in_id=SignIn.objects.get(employee=desk).pk)
    assert record_after.employee().has_perm("bookings.undo_booking_state_change")


def test_a_callers_next_requests_answer_from_the_permissions_remembered_with_its_record(desk, monkeypatch):
    sign_in_id = SignIn.objects.get(employee=desk).pk
    record, _ = callers.caller(employee_id=desk.pk, sign_in_id=sign_in_id)
    first_request = record.employee()
    assert first_request.has_perm("bookings.add_client")
    asked = []
    monkeypatch.setattr(
        "django.contrib.auth.backends.ModelBackend.has_perm", lambda *args, **kwargs: asked.append(args) or False
    )

    next_request = callers.caller(employee_id=desk.pk, sign_in_id=sign_in_id)[0].employee()

    assert next_request.has_perm("bookings.add_client")
    assert asked == []
    assert next_request.has_perm("bookings.delete_employee") is False
    assert len(asked) == 1  # a question not asked before goes to the backends


def test_a_callers_record_is_filed_without_its_permission_answers(desk, monkeypatch):
    record, _ = callers.caller(employee_id=desk.pk, sign_in_id=SignIn.objects.get(employee=desk).pk)
    assert record.employee().has_perm("bookings.add_client")
    asked = []
    has_perm = ModelBackend.has_perm
    monkeypatch.setattr(ModelBackend, "has_perm", lambda *args: asked.append(args) or has_perm(*args))

    filed = pickle.loads(pickle.dumps(record))  # as L2 files it (and as the previous release did)

    assert filed == record
    assert filed.employee().has_perm("bookings.add_client")
    assert len(asked) == 1  # answered afresh
