import pyotp
import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from employees.models import Role
from employees.services import unlock_employee
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory, enrol_mfa, verified_login
from events.models import Event
from photostudio.errors import PermissionDenied

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
WRONG = "wrong-password-123"


def api_login(api_client, username="desk", password=WRONG, **extra):
    return api_client.post(LOGIN, {"username": username, "password": password, **extra}, format="json")


def web_login(client, username="desk", password=WRONG, path=None):
    return client.post(path or reverse("login"), {"username": username, "password": password})


def fail(api_client, times, username="desk"):
    for _ in range(times):
        api_login(api_client, username)


@pytest.fixture
def desk():
    return EmployeeFactory(username="desk", role=Role.RECEPTIONIST)


def test_the_configured_number_of_failures_locks_the_username(api_client, desk, clock, settings):
    fail(api_client, settings.RATE_LIMIT_MAX_ATTEMPTS - 1)
    assert api_login(api_client).json()["error"]["code"] == "locked_out"
    response = api_login(api_client, password=DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    assert response.json()["error"]["details"]["retry_after_seconds"] == settings.RATE_LIMIT_LOCK_DURATION


def test_fewer_failures_leave_the_right_password_working(api_client, desk, clock, settings):
    fail(api_client, settings.RATE_LIMIT_MAX_ATTEMPTS - 1)
    assert api_login(api_client, password=DEFAULT_PASSWORD).status_code == 200


def test_failures_older_than_the_window_do_not_count(api_client, desk, clock, settings):
    """Failures spread wider than RATE_LIMIT_WINDOW never lock, however many there are."""
    gap = settings.RATE_LIMIT_WINDOW // (settings.RATE_LIMIT_MAX_ATTEMPTS - 1) + 1
    for _ in range(settings.RATE_LIMIT_MAX_ATTEMPTS * 3):
        assert api_login(api_client).json()["error"]["code"] == "invalid_credentials"
        clock.shift(gap)
    assert api_login(api_client, password=DEFAULT_PASSWORD).status_code == 200


def test_the_window_slides_rather_than_restarting(api_client, desk, clock, settings):
    """Four failures, then more just after the first leaves the window: still only four count."""
    fail(api_client, 1)
    clock.shift(settings.RATE_LIMIT_WINDOW - 10)
    fail(api_client, settings.RATE_LIMIT_MAX_ATTEMPTS - 2)
    clock.shift(11)
    assert api_login(api_client).json()["error"]["code"] == "invalid_credentials"
    assert api_login(api_client).json()["error"]["code"] == "locked_out"


def test_the_lock_is_released_after_the_lock_duration(api_client, desk, clock, settings):
    fail(api_client, settings.RATE_LIMIT_MAX_ATTEMPTS)
    clock.shift(settings.RATE_LIMIT_LOCK_DURATION - 1)
    assert api_login(api_client, password=DEFAULT_PASSWORD).status_code == 429
    clock.shift(2)
    assert api_login(api_client, password=DEFAULT_PASSWORD).status_code == 200


def test_attempts_during_the_lock_do_not_extend_it(api_client, desk, clock, settings):
    fail(api_client, settings.RATE_LIMIT_MAX_ATTEMPTS)
    for _ in range(3):
        clock.shift(settings.RATE_LIMIT_LOCK_DURATION // 4)
        api_login(api_client)
    clock.shift(settings.RATE_LIMIT_LOCK_DURATION // 4 + 1)
    assert api_login(api_client, password=DEFAULT_PASSWORD).status_code == 200


def test_the_lock_holds_from_every_address(api_client, desk, clock, settings):
    fail(api_client, settings.RATE_LIMIT_MAX_ATTEMPTS)
    response = api_client.post(
        LOGIN, {"username": "desk", "password": DEFAULT_PASSWORD}, format="json", REMOTE_ADDR="198.51.100.9"
    )
    assert response.status_code == 429


def test_a_lock_touches_only_that_username(api_client, desk, clock, settings):
    EmployeeFactory(username="photo", role=Role.PHOTOGRAPHER)
    fail(api_client, settings.RATE_LIMIT_MAX_ATTEMPTS)
    assert api_login(api_client, "photo", DEFAULT_PASSWORD).status_code == 200


def test_a_success_clears_earlier_failures(api_client, desk, clock, settings):
    fail(api_client, settings.RATE_LIMIT_MAX_ATTEMPTS - 1)
    assert api_login(api_client, password=DEFAULT_PASSWORD).status_code == 200
    fail(api_client, settings.RATE_LIMIT_MAX_ATTEMPTS - 1)
    assert api_login(api_client, password=DEFAULT_PASSWORD).status_code == 200


def test_wrong_mfa_codes_lock_like_wrong_passwords(api_client, clock, settings):
    boss = EmployeeFactory(username="boss", role=Role.MANAGER)
    totp = pyotp.TOTP(enrol_mfa(boss))
    for _ in range(settings.RATE_LIMIT_MAX_ATTEMPTS):
        clock.shift(70)  # past django-otp's own growing delay between code attempts
        api_login(api_client, "boss", DEFAULT_PASSWORD, mfa_code="000000")
    clock.shift(70)
    response = api_login(api_client, "boss", DEFAULT_PASSWORD, mfa_code=totp.now())
    assert response.status_code == 429


def test_locking_is_recorded_as_events(api_client, desk, clock, settings):
    fail(api_client, settings.RATE_LIMIT_MAX_ATTEMPTS + 1)
    assert Event.objects.filter(type="employee.login_failed").count() == settings.RATE_LIMIT_MAX_ATTEMPTS + 1
    locked = Event.objects.get(type="employee.locked_out")
    assert locked.aggregate_id == str(desk.pk)
    assert locked.payload["username"] == "desk"
    assert locked.payload["lock_seconds"] == settings.RATE_LIMIT_LOCK_DURATION
    assert Event.objects.filter(type="employee.login_failed", payload__reason="locked_out").count() == 1


def test_web_login_page_locks_and_shows_a_clear_page(client, desk, clock, settings):
    for _ in range(settings.RATE_LIMIT_MAX_ATTEMPTS - 1):
        assert b"not correct" in web_login(client).content
    response = web_login(client)
    assert response.status_code == 429
    assert b"Sign-in is locked for now" in response.content
    assert response["Retry-After"] == str(settings.RATE_LIMIT_LOCK_DURATION)
    assert web_login(client, password=DEFAULT_PASSWORD).status_code == 429


def test_admin_login_locks_on_the_same_count(client, clock, settings):
    boss = EmployeeFactory(username="boss", role=Role.MANAGER)
    enrol_mfa(boss)
    admin_login = reverse("admin:login")
    for _ in range(settings.RATE_LIMIT_MAX_ATTEMPTS - 1):
        web_login(client, "boss", path=admin_login)
    response = web_login(client, "boss", path=admin_login)
    assert response.status_code == 429
    assert b"Sign-in is locked for now" in response.content
    assert web_login(client, "boss", DEFAULT_PASSWORD, path=admin_login).status_code == 429


def test_failures_on_different_paths_add_up(api_client, client, desk, clock, settings):
    web_login(client)
    web_login(client, path=reverse("admin:login"))
    fail(api_client, settings.RATE_LIMIT_MAX_ATTEMPTS - 3)
    assert api_login(api_client).status_code == 429


def test_manager_unlocks_from_the_admin(api_client, client, desk, clock, settings):
    fail(api_client, settings.RATE_LIMIT_MAX_ATTEMPTS)
    manager = EmployeeFactory(role=Role.MANAGER)
    verified_login(client, manager)
    response = client.post(
        reverse("admin:employees_employee_changelist"), {"action": "unlock", "_selected_action": [desk.pk]}
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="desk").exists()
    assert api_login(api_client, password=DEFAULT_PASSWORD).status_code == 200
    assert Event.objects.filter(type="employee.unlocked", actor=manager).exists()


def test_after_an_unlock_one_more_typo_does_not_lock_again(api_client, desk, clock, settings):
    fail(api_client, settings.RATE_LIMIT_MAX_ATTEMPTS)
    unlock_employee(employee=desk, actor=EmployeeFactory(role=Role.ADMIN))
    assert api_login(api_client).json()["error"]["code"] == "invalid_credentials"


def test_manager_cannot_unlock_an_admin():
    with pytest.raises(PermissionDenied):
        unlock_employee(employee=EmployeeFactory(role=Role.ADMIN), actor=EmployeeFactory(role=Role.MANAGER))
