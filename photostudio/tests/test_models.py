"""save_unless_taken: a unique value someone took after validation is a refusal, not a 500."""

import pytest
from django.db import IntegrityError, transaction

from bookings.models import Client
from bookings.tests.factories import ClientFactory
from employees.models import Employee
from employees.tests.factories import EmployeeFactory
from photostudio.errors import ValidationFailed
from photostudio.models import save_unless_taken

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("reported_as", "field"), [("", "phone"), ("client_phone", "client_phone")])
def test_a_value_taken_since_validation_is_refused_and_the_transaction_goes_on(reported_as, field):
    ClientFactory(phone="+14155550001")
    late = Client(full_name="Ada Lovelace", phone="+14155550001")

    with transaction.atomic():
        with pytest.raises(ValidationFailed) as raised:
            save_unless_taken(late, unique_field="phone", reported_as=reported_as)
        assert Client.objects.count() == 1  # would raise TransactionManagementError had it been broken

    assert raised.value.details == {field: ["Another client already has this phone number."]}


def test_another_unique_value_clashing_is_not_reported_as_the_field_taken():
    first = EmployeeFactory()
    clashing = Employee(username="newcomer", calendar_feed_key=first.calendar_feed_key)

    with pytest.raises(IntegrityError):
        save_unless_taken(clashing, unique_field="username")
