import django_filters
import pytest

from bookings.filtersets import BookingFilterSet
from bookings.tests.api import api_as
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from photostudio.api import _with_filters, filter_parameters


class _PricedBookingFilterSet(BookingFilterSet):
    price = django_filters.RangeFilter()  # read from price_min and price_max


def test_a_list_builds_the_filters_its_query_names_and_every_range_filter():
    narrowed = _with_filters(_PricedBookingFilterSet, frozenset({"date"}))

    assert set(narrowed.base_filters) == {"date", "price"}


def test_a_range_filter_takes_the_parameters_it_is_read_from():
    taken = filter_parameters(_PricedBookingFilterSet)

    assert {"price_min", "price_max", "date"} <= taken
    assert "price" not in taken


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/v1/spaces/", "is_active"), ("/api/v1/employees/", "role"), ("/api/v1/clients/", "q")],
)
def test_a_list_without_filters_refuses_a_parameter_it_does_not_take(path, name):
    api = api_as(EmployeeFactory(role=Role.MANAGER))

    response = api.get(path, {name: "x", "page": 1})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert list(response.json()["error"]["details"]) == [name]
