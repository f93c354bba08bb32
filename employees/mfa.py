"""Two-factor authentication with django-otp: an authenticator app (TOTP) and backup codes.

An employee has MFA once a TOTP device is confirmed by a first valid code. Confirming also
creates ten single-use backup codes (a django-otp static device), shown once; they can be
replaced with a fresh ten. A manager or admin can reset it for someone who lost their phone.

Whoever holds only a session or a bearer token must not be able to change the second factor, so
starting and confirming an enrolment need the current password, and replacing the backup codes or
turning MFA off need the password and a code. Those checks are sign-in checks
(``authentication.confirm_password`` and ``confirm_code``): each wrong one feeds the lockout.
"""

from base64 import b32encode
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from employees import authentication, services
from employees.devices import has_mfa
from employees.models import Employee, SignIn
from events.services import publish
from photostudio import errors

BACKUP_CODE_COUNT = 10
DEVICE_NAME = "Authenticator app"


class MfaAlreadyEnabled(errors.Conflict):
    code = "mfa_already_enabled"
    default_message = "Two-factor authentication is already set up."


class MfaNotEnabled(errors.Conflict):
    code = "mfa_not_enabled"
    default_message = "Two-factor authentication is not set up."


class NoPendingEnrolment(errors.Conflict):
    code = "no_pending_enrolment"
    default_message = "Start setting up two-factor authentication first."


class MfaMandatory(errors.Conflict):
    code = "mfa_mandatory"
    default_message = "Your role requires two-factor authentication, so it cannot be turned off."


def enabled_device(employee: Employee) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=employee, confirmed=True).first()


def pending_device(employee: Employee) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=employee, confirmed=False).first()


def secret(device: TOTPDevice) -> str:
    """The device's secret in base32, for typing into an app that cannot scan the QR code."""
    return b32encode(device.bin_key).decode()


def qr_code_svg(device: TOTPDevice) -> str:
    """An SVG QR code of the device's ``otpauth://`` URL (issuer ``MFA_ISSUER``)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def start_enrolment(*, request, employee: Employee, password: str) -> TOTPDevice:
    """A new, unconfirmed authenticator device with a fresh secret (replacing an unconfirmed one),
    given the employee's current password.

    Raises MfaAlreadyEnabled, LockedOut, WrongPassword.
    """
    if has_mfa(employee):
        raise MfaAlreadyEnabled()
    authentication.confirm_password(request=request, employee=employee, password=password)
    with transaction.atomic():
        _enrolling_in_turn(employee)
        TOTPDevice.objects.filter(user=employee, confirmed=False).delete()
        return TOTPDevice.objects.create(user=employee, name=DEVICE_NAME, confirmed=False)


def _enrolling_in_turn(employee: Employee) -> None:
    """Lock the employee's row for the caller's transaction, so that set-ups of one employee run
    one at a time, and refuse once an authenticator is on: a set-up started or confirmed while
    another was being confirmed would leave a second authenticator. Raises MfaAlreadyEnabled."""
    list(Employee.objects.select_for_update().filter(pk=employee.pk).values_list("pk", flat=True))
    if has_mfa(employee):
        raise MfaAlreadyEnabled()


def _replace_backup_codes(employee: Employee) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=employee, defaults={"name": "Backup codes"})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def confirm_enrolment(
    *, request, employee: Employee, password: str, code: str, keep: SignIn | None = None
) -> list[str]:
    """Confirm the pending device with the current password and a first code from the app;
    returns the ten backup codes.

    Every other sign-in (made without the second factor) is ended; ``keep`` becomes verified.
    Raises NoPendingEnrolment, MfaAlreadyEnabled, LockedOut, WrongPassword, InvalidMfaCode.
    """
    if pending_device(employee) is None:
        raise NoPendingEnrolment()
    authentication.confirm_password(request=request, employee=employee, password=password)
    with transaction.atomic():
        return _confirm_device(employee, code=code, keep=keep)


def _confirm_device(employee: Employee, *, code: str, keep: SignIn | None) -> list[str]:
    _enrolling_in_turn(employee)
    device = TOTPDevice.objects.select_for_update().filter(user=employee, confirmed=False).first()
    if device is None:
        raise NoPendingEnrolment()
    if not device.verify_token("".join(code.split())):
        raise errors.InvalidMfaCode()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _replace_backup_codes(employee)
    services.revoke_all_sign_ins(employee=employee, actor=employee, keep=keep)
    if keep is not None:
        SignIn.objects.filter(pk=keep.pk).update(mfa_verified=True)
    publish("employee.mfa_enabled", employee, actor=employee, payload={"device": device.name})
    return codes


def regenerate_backup_codes(*, request, employee: Employee, password: str, code: str) -> list[str]:
    """Replace the backup codes with ten new ones, given the password and a current code.

    Raises MfaNotEnabled, LockedOut, WrongPassword, InvalidMfaCode.
    """
    if not has_mfa(employee):
        raise MfaNotEnabled()
    authentication.confirm_password(request=request, employee=employee, password=password)
    authentication.confirm_code(request=request, employee=employee, code=code)
    with transaction.atomic():
        codes = _replace_backup_codes(employee)
        publish("employee.backup_codes_regenerated", employee, actor=employee)
    return codes


def _remove_devices(employee: Employee) -> None:
    TOTPDevice.objects.filter(user=employee).delete()
    StaticDevice.objects.filter(user=employee).delete()


def disable_mfa(*, request, employee: Employee, password: str, code: str) -> None:
    """Turn MFA off, given the password and a current or backup code; the employee's sign-ins
    count as made without it from then on.

    Raises MfaNotEnabled, MfaMandatory, LockedOut, WrongPassword, InvalidMfaCode.
    """
    if not has_mfa(employee):
        raise MfaNotEnabled()
    if employee.mfa_required:
        raise MfaMandatory()
    authentication.confirm_password(request=request, employee=employee, password=password)
    authentication.confirm_code(request=request, employee=employee, code=code)
    with transaction.atomic():
        _remove_devices(employee)
        # Their sign-ins no longer rest on a second factor the account has: should the role come
        # to require one, they are refused until it is set up again, as any other sign-in is.
        SignIn.objects.filter(employee=employee, mfa_verified=True).update(mfa_verified=False)
        publish("employee.mfa_disabled", employee, actor=employee)


def check_reset(*, employee: Employee, actor: Employee) -> None:
    """Raises PermissionDenied unless ``actor`` may reset ``employee``'s MFA: someone else, whom they manage."""
    if employee.pk == actor.pk or not actor.can_manage_employee(employee):
        raise errors.PermissionDenied("You may not reset this employee's two-factor authentication.")


@transaction.atomic
def reset_mfa(*, employee: Employee, actor: Employee) -> None:
    """Remove someone else's MFA (a lost phone) and end all their sign-ins; they enrol again at
    their next sign-in if their role demands it.

    Raises PermissionDenied (see ``check_reset``), then MfaNotEnabled when they have neither an
    authenticator nor backup codes: nothing is reset, nobody signed out or told of a reset.
    """
    check_reset(employee=employee, actor=actor)
    if not has_mfa(employee) and not StaticToken.objects.filter(device__user=employee).exists():
        raise MfaNotEnabled()
    _remove_devices(employee)
    services.revoke_all_sign_ins(employee=employee, actor=actor)
    publish("employee.mfa_reset", employee, actor=actor)
