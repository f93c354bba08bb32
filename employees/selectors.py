"""Queries about employees, each returning only what the viewer may see."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from employees.models import Employee, SignIn
from photostudio import errors
from photostudio.cache import cached

# Cache namespace of every employee's MFA facts; employees.callers drops it when a device changes.
MFA_NAMESPACE = "mfa"


def employees_visible_to(viewer: Employee) -> QuerySet[Employee]:
    """Everyone for those holding ``employees.view_employee``, else only the viewer."""
    employees = Employee.objects.order_by("full_name", "username")
    if viewer.has_perm("employees.view_employee"):
        return employees
    return employees.filter(pk=viewer.pk)


def get_employee(*, pk: int, viewer: Employee) -> Employee:
    """The employee ``pk`` if the viewer may see them. Raises NotFound."""
    employee = employees_visible_to(viewer).filter(pk=pk).first()
    if employee is None:
        raise errors.NotFound("No such employee.")
    return employee


def active_sign_ins(employee: Employee) -> QuerySet[SignIn]:
    """The employee's sign-ins that are neither revoked nor expired, most recently seen first."""
    return SignIn.objects.filter(employee=employee, revoked_at__isnull=True, expires_at__gt=timezone.now()).order_by(
        "-last_seen_at", "-id"
    )


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


@cached(key_prefix=MFA_NAMESPACE)
def _mfa_devices(employee_id: int) -> tuple[bool, int]:
    return (
        TOTPDevice.objects.filter(user_id=employee_id, confirmed=True).exists(),
        StaticToken.objects.filter(device__user_id=employee_id, device__confirmed=True).count(),
    )
