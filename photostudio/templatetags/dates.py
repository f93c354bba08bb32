"""``{{ booking.start|moment_text }}`` and the other ways ``photostudio.dates`` writes days and
moments, so a page writes them as messages do. A missing value (None) writes nothing, as
Django's ``date`` filter does."""

from functools import partial

from django import template

from photostudio import dates

register = template.Library()


def _filter(name, write):
    register.filter(name, lambda value: "" if value in (None, "") else write(value))


_filter("day_text", dates.day_text)
_filter("day_text_without_year", partial(dates.day_text, with_year=False))
_filter("long_day_text", dates.long_day_text)
_filter("short_day_text", dates.short_day_text)
_filter("short_day_text_with_year", partial(dates.short_day_text, with_year=True))
_filter("moment_text", dates.moment_text)
_filter("moment_text_without_year", partial(dates.moment_text, with_year=False))
_filter("time_text", dates.time_text)


@register.filter
def times_with_zone_text(start, end):
    """``{{ booking.start|times_with_zone_text:booking.end }}``, as ``dates.times_with_zone_text``."""
    return "" if start in (None, "") or end in (None, "") else dates.times_with_zone_text(start, end)
