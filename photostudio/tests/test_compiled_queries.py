from datetime import UTC, datetime, time, timedelta

import pytest
from django.db.models import Q

from bookings.models import Booking, Client, Closure
from bookings.tests.factories import BookingFactory, ClientFactory, ClosureFactory, PhotographerFactory
from photostudio.compiled_queries import CompiledLookup

pytestmark = pytest.mark.django_db


def _bookings_with_pk():
    return CompiledLookup(
        lambda pk: Booking.objects.select_related("space", "client", "photographer").filter(pk=pk).order_by(), pk=int
    )


def test_a_lookup_finds_what_its_queryset_finds_with_related_objects_loaded(django_assert_num_queries):
    booking = BookingFactory(photographer=PhotographerFactory())
    lookup = _bookings_with_pk()

    with django_assert_num_queries(1):
        [found] = lookup.fetch(pk=booking.pk)
        seen = (found.space.slug, found.client.full_name, found.photographer.username)

    assert found == booking
    assert (found.start, found.price, found.state) == (booking.start, booking.price, booking.state)
    assert seen == (booking.space.slug, booking.client.full_name, booking.photographer.username)
    assert not found._state.adding


def test_a_lookup_is_compiled_once_and_run_with_each_value():
    first, second = BookingFactory(), BookingFactory()
    built = []
    lookup = CompiledLookup(lambda pk: built.append(pk) or Booking.objects.filter(pk=pk).order_by(), pk=int)

    found = [lookup.fetch(pk=booking.pk) for booking in (first, second, first)]

    assert found == [[first], [second], [first]]
    assert len(built) == 3  # the model once, the SQL from two sets of stand-ins: never with a real value
    assert {first.pk, second.pk}.isdisjoint(built)


def test_a_lookup_of_text_finds_nothing_for_an_unknown_value():
    client = ClientFactory()
    lookup = CompiledLookup(lambda phone: Client.objects.filter(phone=phone).order_by(), phone=str)

    assert lookup.fetch(phone=client.phone) == [client]
    assert lookup.fetch(phone="+15550000000") == []


def test_a_whole_number_no_column_holds_is_looked_up_as_the_orm_does(django_assert_num_queries):
    booking = BookingFactory()
    equal = _bookings_with_pk()
    above = CompiledLookup(lambda pk: Booking.objects.filter(pk__gt=pk).order_by(), pk=int)

    with django_assert_num_queries(0):  # the ORM knows no row holds it
        assert equal.fetch(pk=2**63) == []
        assert equal.fetch(pk="2787097922519239942471680") == []  # as a URL names it
    assert above.fetch(pk=-(2**70)) == [booking]


def test_a_lookup_of_a_small_integer_column_is_compiled():
    booking = BookingFactory(people_count=3)
    lookup = CompiledLookup(lambda people: Booking.objects.filter(people_count=people).order_by(), people=int)

    assert lookup.fetch(people=3) == [booking]
    assert lookup.fetch(people=4) == []


def test_only_whole_numbers_text_and_datetimes_can_be_looked_up():
    with pytest.raises(TypeError, match="start"):
        CompiledLookup(lambda start: Booking.objects.filter(start=start), start=object)


def test_a_value_the_query_does_not_take_as_one_parameter_is_refused():
    BookingFactory()
    lookup = CompiledLookup(lambda pk: Booking.objects.filter(Q(pk=pk) | Q(client_id=pk)).order_by(), pk=int)

    with pytest.raises(TypeError, match="pk must be one parameter"):
        lookup.fetch(pk=1)


def test_a_lookup_of_datetimes_finds_what_its_queryset_finds():
    closure = ClosureFactory()
    lookup = CompiledLookup(
        lambda start, until: Closure.objects.meeting(start, until).order_by("start"), start=datetime, until=datetime
    )

    assert lookup.fetch(start=closure.start - timedelta(hours=1), until=closure.start + timedelta(minutes=1)) == [
        closure
    ]
    assert lookup.fetch(start=closure.end, until=closure.end + timedelta(hours=1)) == []


def test_a_naive_datetime_is_refused():
    lookup = CompiledLookup(lambda start: Closure.objects.filter(start=start), start=datetime)

    with pytest.raises(TypeError, match="aware"):
        lookup.fetch(start=datetime(2024, 1, 15, 10))


def test_a_lookup_of_values_list_gives_the_querysets_tuples(django_assert_num_queries):
    first = BookingFactory(start=datetime(2024, 1, 15, 10, tzinfo=UTC))
    second = BookingFactory(start=datetime(2024, 1, 16, 23, 30, tzinfo=UTC), end=datetime(2024, 1, 17, 1, tzinfo=UTC))

    def build(start, end):
        return (
            Booking.objects.filter(end__gt=start, start__lt=end).order_by("start").values_list("id", "start", "price")
        )

    lookup = CompiledLookup(build, start=datetime, end=datetime)
    days = [datetime(2024, 1, 15 + offset, tzinfo=UTC) for offset in range(3)]
    lookup.fetch(start=days[0], end=days[1])

    with django_assert_num_queries(3):
        found = [lookup.fetch(using="default", start=day, end=day + timedelta(days=1)) for day in days]

    assert found == [list(build(day, day + timedelta(days=1))) for day in days]
    assert found[0] == [(first.pk, first.start, first.price)]  # the ORM's converters applied too
    assert found[2] == [(second.pk, second.start, second.price)]


def _next_midnight(moment: datetime) -> datetime:
    return datetime.combine(moment.date() + timedelta(days=1), time(), tzinfo=UTC)


@pytest.mark.parametrize(
    "worked_out",
    [lambda start: start - timedelta(hours=12), _next_midnight],
    ids=["shifted", "truncated to a day"],
)
def test_a_query_holding_a_value_worked_out_from_one_is_refused(worked_out):
    BookingFactory()
    lookup = CompiledLookup(
        lambda start: Booking.objects.filter(end__gt=start, start__lt=worked_out(start)).values_list("id"),
        start=datetime,
    )

    with pytest.raises(TypeError, match="depends on its values beyond their places"):
        lookup.fetch(start=datetime(2024, 1, 15, tzinfo=UTC))


def test_a_distinct_values_list_ordered_by_another_column_gives_only_its_columns():
    booking = BookingFactory(start=datetime(2024, 1, 15, 10, tzinfo=UTC))

    def build(start):
        return Booking.objects.filter(end__gt=start).distinct().order_by("created_at").values_list("id")

    lookup = CompiledLookup(build, start=datetime)

    assert lookup.fetch(start=datetime(2024, 1, 15, tzinfo=UTC)) == list(build(datetime(2024, 1, 15, tzinfo=UTC)))
    assert lookup.fetch(start=datetime(2024, 1, 15, tzinfo=UTC)) == [(booking.pk,)]


def test_only_instances_and_values_list_tuples_are_looked_up():
    lookup = CompiledLookup(lambda pk: Booking.objects.filter(pk=pk).values(), pk=int)

    with pytest.raises(TypeError, match="values_list"):
        lookup.fetch(pk=1)
