"""How a day and a moment read for people in messages and lists: as the pages write them (Django's
"D j M Y, H:i"), in the studio's time zone, so a refusal beside a page reads "Mon 4 Feb 2030, 10:00"
as the page does. Templates write them through the filters of ``photostudio.templatetags.dates``."""

from datetime import date, datetime

from django.utils import dateformat, timezone


def day_text(day: date, *, with_year: bool = True) -> str:
    """'Mon 4 Feb 2030' (without the year: 'Mon 4 Feb'); a moment is taken on its day in the
    studio's time zone."""
    return dateformat.format(_local(day), "D j M Y" if with_year else "D j M")


def long_day_text(day: date) -> str:
    """'Monday 4 February 2030'."""
    return dateformat.format(_local(day), "l j F Y")


def short_day_text(day: date, *, with_year: bool = False) -> str:
    """'4 Feb', where a column of days has room for little more ('4 Feb 2030' with the year)."""
    return dateformat.format(_local(day), "j M Y" if with_year else "j M")


def moment_text(moment: datetime, *, with_year: bool = True) -> str:
    """'Mon 4 Feb 2030, 10:00' (without the year: 'Mon 4 Feb, 10:00') in the studio's time zone,
    its time as ``time_text`` writes it."""
    return f"{day_text(moment, with_year=with_year)}, {time_text(moment)}"


def time_text(moment: datetime) -> str:
    """'10:00', the studio's clock at ``moment``; '02:30 CET' in the hour a change of clocks
    repeats, where '02:30' alone names two moments."""
    local = _local(moment)
    repeated = local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()
    # Not dateformat's "T", which writes no zone for a repeated time (see zone_text).
    return f"{local:%H:%M} {local.tzname()}" if repeated else f"{local:%H:%M}"


def times_with_zone_text(start: datetime, end: datetime) -> str:
    """'11:00–13:00 (CET)': a session's times on the studio's clock with the zone named, for a reader
    away from the studio (e-mails); where the clocks change between them, each time with its own
    zone ('01:30 CEST–02:30 CET'), as one zone for both would put the end an hour out."""
    start_zone, end_zone = zone_text(start), zone_text(end)
    if start_zone == end_zone:
        return f"{_local(start):%H:%M}–{_local(end):%H:%M} ({start_zone})"
    return f"{_local(start):%H:%M} {start_zone}–{_local(end):%H:%M} {end_zone}"


def zone_text(moment: datetime) -> str:
    """'CET', the name of the studio's zone at ``moment``, the repeated hour's included (Django's
    "T" writes nothing there)."""
    return _local(moment).tzname()


def _local(value: date) -> date:
    return timezone.localtime(value, timezone.get_default_timezone()) if isinstance(value, datetime) else value
