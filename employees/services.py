"""Commands on employees: their record and role, their password and their sign-ins.

Each takes the acting employee explicitly, checks what that actor may do, writes in one
transaction and records what happened as an event in the same transaction.
"""

from datetime import timedelta
from importlib import import_module

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from bookings import services as booking_services
from employees import calendar_feed
from employees.models import Employee, Role, SignIn
from events.services import publish
from photostudio import errors
from photostudio.models import save_unless_taken

# What employees may change on their own record without the right to manage it.
SELF_SERVICE_FIELDS = frozenset({"full_name", "phone", "department"})
EDITABLE_FIELDS = SELF_SERVICE_FIELDS | {"email", "role", "is_active"}
# A sign-in's "last seen" is written at most this often, not on every request.
ACTIVITY_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def create_admin(*, username: str, email: str, password: str) -> tuple[Employee, bool]:
    """Create an admin employee, or return the existing admin of that name unchanged (created is False).

    Raises ValidationFailed for a malformed username or e-mail, a weak password, or a username
    that belongs to an employee who is not an admin (nobody is promoted behind the studio's back).
    """
    existing = Employee.objects.filter(username=username).first()
    if existing is not None:
        if existing.role != Role.ADMIN:
            message = f"'{username}' is taken by a {existing.get_role_display().lower()}, who is not an admin."
            raise errors.ValidationFailed(message, details={"username": [message]})
        return existing, False
    admin = Employee(username=username, email=email, full_name="Administrator", role=Role.ADMIN)
    _validate(admin, password=password)
    return Employee.objects.create_superuser(username, password, email=email, full_name=admin.full_name), True


def check_create(*, actor: Employee, role: str) -> None:
    """Raises PermissionDenied unless ``actor`` may add an employee with ``role``."""
    if not actor.has_perm("employees.add_employee") or not actor.can_assign_role(Employee(role=role), role):
        raise errors.PermissionDenied("You may not add an employee with this role.")


@transaction.atomic
def create_employee(*, actor: Employee, username: str, password: str, role: str, **fields) -> Employee:
    """Create an employee with ``role``; only for actors who may add employees and give that role.

    Raises PermissionDenied, or ValidationFailed for a taken username, bad fields or a weak password.
    """
    check_create(actor=actor, role=role)
    unknown = set(fields) - (EDITABLE_FIELDS - {"role"})
    if unknown:
        raise errors.ValidationFailed(details={name: ["This field cannot be set."] for name in sorted(unknown)})
    employee = Employee(username=username, role=role, created_by=actor, updated_by=actor, **fields)
    _validate(employee, password=password)
    employee.set_password(password)
    save_unless_taken(employee, unique_field="username")
    publish("employee.created", employee, actor=actor, payload={"username": employee.username, "role": role})
    return employee


def _validate(employee: Employee, *, password: str | None = None) -> None:
    try:
        employee.full_clean(exclude=["password"])
        if password is not None:
            validate_password(password, user=employee)
    except ValidationError as exc:
        details = exc.message_dict if hasattr(exc, "error_dict") else {"password": exc.messages}
        raise errors.ValidationFailed(details=details) from exc


def check_update(*, employee: Employee, actor: Employee, changes: dict, active_admin_ids=None) -> dict:
    """The entries of ``changes`` that differ from ``employee``, if ``actor`` may make them.

    Employees may change their own name, phone and department; everything else needs
    ``actor.can_manage_employee(employee)``, and a new role ``actor.can_assign_role``. The last
    active admin can be neither demoted nor deactivated.

    Raises ValidationFailed (a field that cannot be changed), PermissionDenied, LastAdmin.
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise errors.ValidationFailed(details={name: ["This field cannot be changed."] for name in sorted(unknown)})
    changed = {name: value for name, value in changes.items() if getattr(employee, name) != value}
    if not changed:
        return changed
    self_service = actor.pk == employee.pk and actor.is_active and changed.keys() <= SELF_SERVICE_FIELDS
    if not self_service and not actor.can_manage_employee(employee):
        raise errors.PermissionDenied("You may not change this employee.")
    if "role" in changed and not actor.can_assign_role(employee, changed["role"]):
        raise errors.PermissionDenied("You may not give this employee that role.")
    stays_admin = changed.get("role", employee.role) == Role.ADMIN and changed.get("is_active", employee.is_active)
    if employee.role == Role.ADMIN and employee.is_active and not stays_admin:
        if active_admin_ids is None:
            active_admin_ids = Employee.objects.filter(role=Role.ADMIN, is_active=True).values_list("pk", flat=True)
        if not set(active_admin_ids) - {employee.pk}:
            raise errors.LastAdmin()
    return changed


def locked_for_update(employee: Employee) -> tuple[Employee, list[int]]:
    """``employee`` read again and the active admins' ids, under row locks held to the end of the
    caller's transaction: the active admins first (always in the same order), so that of two
    admins demoting each other at the same moment the second sees the first's change."""
    active_admin_ids = list(
        Employee.objects.select_for_update()
        .filter(role=Role.ADMIN, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return Employee.objects.select_for_update().get(pk=employee.pk), active_admin_ids


@transaction.atomic
def update_employee(*, employee: Employee, actor: Employee, **changes) -> Employee:
    """Change the fields given in ``changes`` (any of ``EDITABLE_FIELDS``), leaving the rest, under
    the rules of ``check_update``. Deactivating ends every sign-in of the employee and their
    calendar feed URL.

    Raises ValidationFailed, PermissionDenied, LastAdmin.
    """
    employee, active_admin_ids = locked_for_update(employee)
    changed = check_update(employee=employee, actor=actor, changes=changes, active_admin_ids=active_admin_ids)
    if not changed:
        return employee

    previous_role, previous_email = employee.role, employee.email
    for name, value in changed.items():
        setattr(employee, name, value)
    employee.updated_by = actor
    _validate(employee)
    saved = [*changed, "updated_by", "updated_at"]
    if changed.get("is_active") is False:
        # The feed URL they had stays dead should they be reactivated one day.
        employee.calendar_feed_key = calendar_feed.new_key()
        saved.append("calendar_feed_key")
    employee.save(update_fields=saved)

    payload = {"fields": sorted(changed)}
    if "email" in changed:
        # Both addresses, so the old one can be told where the account's mail goes now.
        payload["email"] = {"from": previous_email, "to": employee.email}
    publish("employee.updated", employee, actor=actor, payload=payload)
    if "role" in changed:
        publish("employee.role_changed", employee, actor=actor, payload={"from": previous_role, "to": employee.role})
    if changed.get("is_active") is False:
        revoke_all_sign_ins(employee=employee, actor=actor)
        publish("employee.deactivated", employee, actor=actor)
    return employee


@transaction.atomic
def deactivate_employee(*, employee: Employee, actor: Employee, unassign_upcoming_sessions: bool) -> list:
    """Deactivate ``employee`` (as ``update_employee``) and, when asked, take them off their upcoming
    sessions (each unassignment recorded on its booking); otherwise they stay on them, shown as
    inactive. Returns the bookings they were taken off. Raises as ``update_employee`` does, and
    PermissionDenied when the actor may not change bookings but asked to unassign.
    """
    update_employee(employee=employee, actor=actor, is_active=False)
    if not unassign_upcoming_sessions:
        return []
    return booking_services.unassign_upcoming_sessions(photographer=employee, actor=actor)


@transaction.atomic
def regenerate_calendar_feed(*, employee: Employee, actor: Employee) -> Employee:
    """Give ``employee`` a new calendar feed URL; the old one stops opening the feed at once.

    Raises PermissionDenied unless the actor is the employee or manages them.
    """
    if employee.pk != actor.pk and not actor.can_manage_employee(employee):
        raise errors.PermissionDenied("You may not change this employee's calendar feed.")
    employee.calendar_feed_key = calendar_feed.new_key()
    employee.save(update_fields=["calendar_feed_key"])
    publish("employee.calendar_feed_regenerated", employee, actor=actor)
    return employee


@transaction.atomic
def change_password(*, employee: Employee, new_password: str, keep: SignIn | None = None) -> Employee:
    """Set the employee's password and end every sign-in but ``keep`` (the one they changed it in).

    Raises ValidationFailed when the password breaks the password policy.
    """
    _validate(employee, password=new_password)
    employee.set_password(new_password)
    employee.save(update_fields=["password"])
    revoke_all_sign_ins(employee=employee, actor=employee, keep=keep)
    publish("employee.password_changed", employee, actor=employee)
    return employee


def _end_session(session_key: str) -> None:
    if session_key:
        import_module(settings.SESSION_ENGINE).SessionStore(session_key).delete()


def _blacklist(refresh_jti: str) -> None:
    outstanding = OutstandingToken.objects.filter(jti=refresh_jti).first()
    if outstanding is not None:
        BlacklistedToken.objects.get_or_create(token=outstanding)


def _revoke(sign_in: SignIn, now) -> None:
    _end_session(sign_in.session_key)
    _blacklist(sign_in.refresh_jti)
    sign_in.revoked_at = now
    sign_in.save(update_fields=["revoked_at"])


@transaction.atomic
def revoke_sign_in(*, sign_in: SignIn, actor: Employee) -> None:
    """End one sign-in: its browser session is deleted, its refresh token blacklisted and its
    access tokens refused from now on. Raises PermissionDenied unless it is the actor's own or
    the actor manages its employee."""
    if sign_in.employee_id != actor.pk and not actor.can_manage_employee(sign_in.employee):
        raise errors.PermissionDenied("You may not end this sign-in.")
    # Read again under its row lock: of two requests ending it at once, the second finds it ended.
    if SignIn.objects.select_for_update().filter(pk=sign_in.pk, revoked_at__isnull=True).exists():
        _revoke(sign_in, timezone.now())
        publish("employee.signed_out", sign_in.employee, actor=actor, payload={"sign_in_id": sign_in.pk})


@transaction.atomic
def revoke_all_sign_ins(*, employee: Employee, actor: Employee, keep: SignIn | None = None) -> int:
    """End every sign-in of ``employee`` except ``keep``; returns how many were ended.

    Raises PermissionDenied unless the actor is the employee or manages them.
    """
    if employee.pk != actor.pk and not actor.can_manage_employee(employee):
        raise errors.PermissionDenied("You may not end this employee's sign-ins.")
    now = timezone.now()
    sign_ins = SignIn.objects.select_for_update().filter(employee=employee, revoked_at__isnull=True)
    if keep is not None:
        sign_ins = sign_ins.exclude(pk=keep.pk)
    ended = list(sign_ins)
    for sign_in in ended:
        _revoke(sign_in, now)
    if ended:
        publish("employee.signed_out", employee, actor=actor, payload={"sign_in_ids": [s.pk for s in ended]})
    return len(ended)


@transaction.atomic
def end_sign_in_for_token_reuse(*, sign_in: SignIn, ip_address: str | None, user_agent: str) -> None:
    """A refresh token that ``sign_in`` had already exchanged for a new pair came back (from
    ``ip_address``): two parties hold its tokens, so the whole sign-in ends: its current refresh
    token is blacklisted and every access token issued for it is refused from now on. Recorded as
    ``employee.token_reuse_detected``; the owner sees it in their sign-ins."""
    now = timezone.now()
    _revoke(sign_in, now)
    sign_in.token_reuse_detected_at = now
    sign_in.save(update_fields=["token_reuse_detected_at"])
    publish(
        "employee.token_reuse_detected",
        sign_in.employee,
        payload={"sign_in_id": sign_in.pk, "ip_address": ip_address, "user_agent": user_agent},
    )


def note_browser_activity(*, sign_in_id: int, employee: Employee, session_key: str, expires_at) -> bool:
    """Move a browser sign-in's "last seen" to now and follow its session's key (Django cycles
    it at login and password change) and expiry, so revoking it ends the right session. Returns
    False when the sign-in has ended (its session is gone)."""
    return bool(
        SignIn.objects.filter(pk=sign_in_id, employee=employee, revoked_at__isnull=True).update(
            last_seen_at=timezone.now(), session_key=session_key, expires_at=expires_at
        )
    )


@transaction.atomic
def unlock_employee(*, employee: Employee, actor: Employee) -> int:
    """Lift a sign-in lock of ``employee`` (all addresses); returns how many lock records went.

    Raises PermissionDenied unless the actor manages the employee.
    """
    if not actor.can_manage_employee(employee):
        raise errors.PermissionDenied("You may not unlock this employee.")
    removed = AxesProxyHandler.reset_attempts(username=employee.username)
    publish("employee.unlocked", employee, actor=actor, payload={"records": removed})
    return removed


def prune_sign_ins(cutoff) -> int:
    """Delete sign-ins that were revoked or expired before ``cutoff``; returns how many."""
    deleted, _ = SignIn.objects.filter(Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff)).delete()
    return deleted


def prune_access_logs(cutoff) -> int:
    """Delete django-axes' sign-in logs (successes and failures) from before ``cutoff``."""
    deleted = AccessLog.objects.filter(attempt_time__lt=cutoff).delete()[0]
    return deleted + AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()[0]


def prune_expired_tokens(cutoff) -> int:
    """Delete refresh tokens (and their blacklist rows) that expired before ``cutoff``."""
    _, deleted = OutstandingToken.objects.filter(expires_at__lt=cutoff).delete()
    return deleted.get(OutstandingToken._meta.label, 0)
