from base64 import b32encode

import factory
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from employees.models import Employee, Role

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"employee{n}")
    full_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda employee: f"{employee.username}@studio.test")
    role = Role.RECEPTIONIST
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


def enrol_mfa(employee: Employee) -> str:
    """Give ``employee`` a confirmed authenticator app; returns its base32 secret for pyotp."""
    device = TOTPDevice.objects.create(user=employee, name="Authenticator app", confirmed=True)
    return b32encode(device.bin_key).decode()


def give_backup_codes(employee: Employee, *codes: str) -> None:
    device, _ = StaticDevice.objects.get_or_create(user=employee, defaults={"name": "Backup codes"})
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)


def verified_login(client, employee: Employee) -> None:
    """Log the test client in as ``employee`` with a session that passed the second factor, as the
    admin and MFA-mandatory roles need (enrols an authenticator app if there is none)."""
    device = TOTPDevice.objects.filter(user=employee, confirmed=True).first()
    if device is None:
        enrol_mfa(employee)
        device = TOTPDevice.objects.get(user=employee, confirmed=True)
    client.force_login(employee, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
