"""Days and moments in messages read as the pages write them, in the studio's time zone."""

from datetime import UTC, date, datetime

from photostudio.dates import day_text, long_day_text, moment_text


def test_a_day_before_the_tenth_has_no_leading_zero():
    assert day_text(date(2030, 2, 4)) == "Mon 4 Feb 2030"
    assert long_day_text(date(2030, 2, 4)) == "Monday 4 February 2030"


def test_a_moment_reads_on_the_studios_clock(settings):
    settings.TIME_ZONE = "America/New_York"
    late_evening = datetime(2030, 2, 5, 3, 30, tzinfo=UTC)  # 22:30 the day before in New York

    assert moment_text(late_evening) == "Mon 4 Feb 2030, 22:30"
    assert moment_text(late_evening, with_year=False) == "Mon 4 Feb, 22:30"
    assert day_text(late_evening) == "Mon 4 Feb 2030"
