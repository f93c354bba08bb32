"""The second factor's devices (django-otp): whether an employee has one and which accepts a
code. Signing in (``authentication``) and managing MFA (``mfa``) both read them."""

from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from employees.models import Employee


def has_mfa(employee: Employee) -> bool:
    """Whether the employee has confirmed an authenticator app."""
    return TOTPDevice.objects.filter(user=employee, confirmed=True).exists()


def match_code(employee: Employee, code: str) -> Device | None:
    """The device that accepts ``code``: six digits go to the authenticator app, anything else to
    the backup codes (eight characters, never six digits). Each accepted code is used up:
    TOTP refuses a time step it already accepted, a backup code is deleted."""
    code = "".join(code.split()).lower()
    device_model = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        device = device_model.objects.select_for_update().filter(user=employee, confirmed=True).first()
        if device is not None and device.verify_token(code):
            return device
    return None
