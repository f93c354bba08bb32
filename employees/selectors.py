"""Queries about employees, each returning only what the viewer may see."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from employees import calendar_feed
from employees.models import Employee, Role, SignIn
from photostudio import errors
from photostudio.cache import cache, cached

# Cache namespace of every employee's MFA facts; employees.callers drops it when a device changes.
MFA_NAMESPACE = "mfa"

# How long a sign-in ended because its refresh token was reused stays in its owner's list.
TOKEN_REUSE_NOTICE = timedelta(days=30)


def employees_visible_to(viewer: Employee) -> QuerySet[Employee]:
    """Everyone for those holding ``employees.view_employee``, else only the viewer."""
    employees = Employee.objects.order_by("full_name", "username")
    if viewer.has_perm("employees.view_employee"):
        return employees
    return employees.filter(pk=viewer.pk)


def studio_has_admin() -> bool:
    """Whether any employee, active or not, has the admin role."""
    return Employee.objects.filter(role=Role.ADMIN).exists()


def get_employee(*, pk: int, viewer: Employee) -> Employee:
    """The employee ``pk`` if the viewer may see them. Raises NotFound."""
    employee = employees_visible_to(viewer).filter(pk=pk).first()
    if employee is None:
        raise errors.NotFound("No such employee.")
    return employee


def calendar_feed_owner(token: str) -> Employee | None:
    """The active employee whose calendar feed ``token`` opens, or None for a token that is
    malformed, forged, replaced by a newer one, or an inactive employee's. At most one query."""
    key = calendar_feed.key_of(token)
    if key is None:
        return None
    return Employee.objects.filter(calendar_feed_key=key, is_active=True).first()


def active_sign_ins(employee: Employee) -> QuerySet[SignIn]:
    """The employee's sign-ins that are neither revoked nor expired, most recently seen first."""
    return SignIn.objects.filter(employee=employee, revoked_at__isnull=True, expires_at__gt=timezone.now()).order_by(
        "-last_seen_at", "-id"
    )


def sign_ins_ended_for_token_reuse(employee: Employee) -> QuerySet[SignIn]:
    """The employee's sign-ins ended in the last ``TOKEN_REUSE_NOTICE`` because one of their
    refresh tokens was presented again after it had been exchanged, most recent first."""
    return SignIn.objects.filter(
        employee=employee, token_reuse_detected_at__gt=timezone.now() - TOKEN_REUSE_NOTICE
    ).order_by("-token_reuse_detected_at", "-id")


def sign_ins_listed_for(employee: Employee) -> QuerySet[SignIn]:
    """What the employee's list of sign-ins shows: the active ones and those recently ended for
    token reuse, most recently seen first."""
    now = timezone.now()
    return SignIn.objects.filter(
        Q(revoked_at__isnull=True, expires_at__gt=now) | Q(token_reuse_detected_at__gt=now - TOKEN_REUSE_NOTICE),
        employee=employee,
    ).order_by("-last_seen_at", "-id")


def get_sign_in(*, pk: int, viewer: Employee) -> SignIn:
    """One of the viewer's own active sign-ins. Raises NotFound."""
    sign_in = active_sign_ins(viewer).select_related("employee").filter(pk=pk).first()
    if sign_in is None:
        raise errors.NotFound("No such sign-in.")
    return sign_in


@dataclass(frozen=True)
class MfaStatus:
    enabled: bool
    required: bool
    backup_codes_left: int


def mfa_status(employee: Employee) -> MfaStatus:
    """No query while cached: until any MFA device or backup code changes."""
    enabled, backup_codes_left = _mfa_devices(employee.pk)
    return MfaStatus(enabled=enabled, required=employee.mfa_required, backup_codes_left=backup_codes_left)


def announce_mfa_status() -> None:
    """The current request will read an MFA status: its cache version comes with the caller's."""
    cache.announce(MFA_NAMESPACE)


@cached(key_prefix=MFA_NAMESPACE)
def _mfa_devices(employee_id: int) -> tuple[bool, int]:
    return (
        TOTPDevice.objects.filter(user_id=employee_id, confirmed=True).exists(),
        StaticToken.objects.filter(device__user_id=employee_id, device__confirmed=True).count(),
    )
