from base64 import b32encode

import pyotp
import pytest
from django.test import RequestFactory
from django_otp.plugins.otp_totp.models import TOTPDevice

from employees import authentication, mfa
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
