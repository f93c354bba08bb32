"""Days and moments in messages read as the pages write them, in the studio's time zone."""

from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template

from photostudio.dates import day_text, long_day_text, moment_text, short_day_text, time_text, zone_text


def test_a_day_before_the_tenth_has_no_leading_zero():
    assert day_text(date(2030, 2, 4)) == "Mon 4 Feb 2030"
    assert day_text(date(2030, 2, 4), with_year=False) == "Mon 4 Feb"
    assert long_day_text(date(2030, 2, 4)) == "Monday 4 February 2030"
    assert short_day_text(date(2030, 2, 4)) == "4 Feb"
    assert short_day_text(date(2030, 2, 4), with_year=True) == "4 Feb 2030"


def test_a_moment_reads_on_the_studios_clock(settings):
    settings.TIME_ZONE = "America/New_York"
    late_evening = datetime(2030, 2, 5, 3, 30, tzinfo=UTC)  # 22:30 the day before in New York

    assert moment_text(late_evening) == "Mon 4 Feb 2030, 22:30"
    assert moment_text(late_evening, with_year=False) == "Mon 4 Feb, 22:30"
    assert day_text(late_evening) == "Mon 4 Feb 2030"
    assert time_text(late_evening) == "22:30"


def render(source: str, **context) -> str:
    return Template("{% load dates %}" + source).render(Context(context))


def test_a_page_writes_a_moment_as_a_message_does(settings):
    settings.TIME_ZONE = "America/New_York"
    late_evening = datetime(2030, 2, 5, 3, 30, tzinfo=UTC)

    assert render("{{ when|moment_text }}", when=late_evening) == "Mon 4 Feb 2030, 22:30"
    assert render("{{ when|moment_text_without_year }}", when=late_evening) == "Mon 4 Feb, 22:30"
    assert render("{{ when|day_text }} · {{ when|time_text }}", when=late_evening) == "Mon 4 Feb 2030 · 22:30"
    assert render("{{ when|day_text_without_year }}", when=late_evening) == "Mon 4 Feb"
    assert render("{{ when|long_day_text }}", when=late_evening) == "Monday 4 February 2030"
    assert render("{{ when|short_day_text }}–{{ when|short_day_text_with_year }}", when=late_evening) == (
        "4 Feb–4 Feb 2030"
    )


def test_a_page_writes_nothing_for_a_moment_that_has_not_happened():
    assert render("[{{ when|moment_text }}][{{ when|time_text }}]", when=None) == "[][]"


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "02:30 CEST"),  # the first 02:30 of the night clocks go back
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "02:30 CET"),  # the second
        (datetime(2026, 10, 25, 2, 30, tzinfo=UTC), "03:30"),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "03:00"),
    ],
)
def test_a_clock_time_names_its_zone_only_where_the_clock_repeats_it(settings, moment, text):
    settings.TIME_ZONE = "Europe/Berlin"

    assert time_text(moment) == text


@pytest.mark.parametrize(
    ("moment", "zone"),
    [
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "CEST"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "CET"),
        (datetime(2026, 7, 1, 10, 0, tzinfo=UTC), "CEST"),
    ],
)
def test_a_moment_names_its_zone_in_the_repeated_hour_too(settings, moment, zone):
    settings.TIME_ZONE = "Europe/Berlin"

    assert zone_text(moment) == zone
    assert render("{{ when|times_with_zone_text:when }}", when=moment).endswith(f"({zone})")


def test_a_moment_in_the_repeated_hour_names_which_of_the_two_it_is(settings):
    settings.TIME_ZONE = "Europe/Berlin"

    assert moment_text(datetime(2026, 10, 25, 0, 30, tzinfo=UTC)) == "Sun 25 Oct 2026, 02:30 CEST"
    assert moment_text(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), with_year=False) == "Sun 25 Oct, 02:30 CET"
