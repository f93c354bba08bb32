import django_filters

from bookings.filtersets import BookingFilterSet
from photostudio.api import _with_filters


class _PricedBookingFilterSet(BookingFilterSet):
    price = django_filters.RangeFilter()  # read from price_min and price_max


def test_a_list_builds_the_filters_its_query_names_and_every_range_filter():
    narrowed = _with_filters(_PricedBookingFilterSet, frozenset({"date"}))

    assert set(narrowed.base_filters) == {"date", "price"}
