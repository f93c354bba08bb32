from base64 import b32encode
from datetime import timedelta

import pyotp
import pytest
from django.test import RequestFactory
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from employees import authentication, mfa
from employees.models import Role, SignIn
from employees.tests.factories import DEFAULT_PASSWORD, EmployeeFactory, enrol_mfa
from photostudio import errors

pytestmark = pytest.mark.django_db


def _request():
    return RequestFactory().post("/profile/mfa/enroll/", REMOTE_ADDR="203.0.113.7")


def test_a_second_authenticator_cannot_be_confirmed_while_one_is_on(clock):
    # Two set-ups raced: one was confirmed while the other's unconfirmed device was being made.
    desk = EmployeeFactory()
    enrol_mfa(desk)
    other = TOTPDevice.objects.create(user=desk, name=mfa.DEVICE_NAME, confirmed=False)
    code = pyotp.TOTP(b32encode(other.bin_key).decode()).now()
    with pytest.raises(mfa.MfaAlreadyEnabled):
        mfa.confirm_enrolment(request=_request(), employee=desk, password=DEFAULT_PASSWORD, code=code)
    assert TOTPDevice.objects.filter(user=desk, confirmed=True).count() == 1


def test_a_set_up_confirmed_while_another_starts_leaves_no_second_device(clock, monkeypatch):
    desk = EmployeeFactory()
    first = mfa.start_enrolment(request=_request(), employee=desk, password=DEFAULT_PASSWORD)
    confirm_password = authentication.confirm_password

    def confirmed_meanwhile(**kwargs):
        # The first set-up is confirmed while this start checks the password.
        confirm_password(**kwargs)
        monkeypatch.setattr(authentication, "confirm_password", confirm_password)
        code = pyotp.TOTP(mfa.secret(first)).now()
        mfa.confirm_enrolment(request=_request(), employee=desk, password=DEFAULT_PASSWORD, code=code)

    monkeypatch.setattr(authentication, "confirm_password", confirmed_meanwhile)
    with pytest.raises(mfa.MfaAlreadyEnabled):
        mfa.start_enrolment(request=_request(), employee=desk, password=DEFAULT_PASSWORD)
    assert list(TOTPDevice.objects.filter(user=desk).values_list("confirmed", flat=True)) == [True]


def test_starting_again_replaces_the_unconfirmed_device(clock):
    desk = EmployeeFactory()
    mfa.start_enrolment(request=_request(), employee=desk, password=DEFAULT_PASSWORD)
    second = mfa.start_enrolment(request=_request(), employee=desk, password=DEFAULT_PASSWORD)
    assert list(TOTPDevice.objects.filter(user=desk)) == [second]


def test_a_wrong_first_code_leaves_the_set_up_unconfirmed(clock):
    desk = EmployeeFactory()
    mfa.start_enrolment(request=_request(), employee=desk, password=DEFAULT_PASSWORD)
    with pytest.raises(errors.InvalidMfaCode):
        mfa.confirm_enrolment(request=_request(), employee=desk, password=DEFAULT_PASSWORD, code="000000")
    assert not TOTPDevice.objects.filter(user=desk, confirmed=True).exists()


def _sign_in(employee, *, mfa_verified=False):
    return SignIn.objects.create(
        employee=employee,
        channel=SignIn.Channel.API,
        mfa_verified=mfa_verified,
        expires_at=timezone.now() + timedelta(days=1),
    )


def test_confirming_a_set_up_ends_every_other_sign_in_and_verifies_the_one_it_was_made_in(clock):
    desk = EmployeeFactory()
    here, elsewhere = _sign_in(desk), _sign_in(desk)
    device = mfa.start_enrolment(request=_request(), employee=desk, password=DEFAULT_PASSWORD)

    mfa.confirm_enrolment(
        request=_request(),
        employee=desk,
        password=DEFAULT_PASSWORD,
        code=pyotp.TOTP(mfa.secret(device)).now(),
        keep=here,
    )

    here.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (here.revoked_at, here.mfa_verified) == (None, True)
    assert elsewhere.revoked_at is not None


def test_nobody_resets_their_own_mfa(clock):
    admin = EmployeeFactory(role=Role.ADMIN)
    enrol_mfa(admin)

    with pytest.raises(errors.PermissionDenied):
        mfa.reset_mfa(employee=admin, actor=admin)

    assert TOTPDevice.objects.filter(user=admin, confirmed=True).exists()


def test_resetting_someones_mfa_ends_every_sign_in_of_theirs(clock):
    admin = EmployeeFactory(role=Role.ADMIN)
    desk = EmployeeFactory()
    enrol_mfa(desk)
    sign_in = _sign_in(desk, mfa_verified=True)

    mfa.reset_mfa(employee=desk, actor=admin)

    sign_in.refresh_from_db()
    assert sign_in.revoked_at is not None
    assert not TOTPDevice.objects.filter(user=desk).exists()


def test_turning_mfa_off_needs_a_code_beside_the_password(clock):
    desk = EmployeeFactory()
    valid = int(pyotp.TOTP(enrol_mfa(desk)).now())
    wrong = f"{(valid + 1) % 1_000_000:06d}"

    with pytest.raises(errors.InvalidMfaCode):
        mfa.disable_mfa(request=_request(), employee=desk, password=DEFAULT_PASSWORD, code=wrong)

    assert TOTPDevice.objects.filter(user=desk, confirmed=True).exists()
