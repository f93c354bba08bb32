"""What the studio accepts as text and as a date, in every form and every API write.

- Text holds no control characters (NUL, escape, backspace, ...): PostgreSQL refuses NUL outright
  and the others only ever come from a paste gone wrong or a probe. Tab and line breaks are
  accepted in multi-line text (notes): a form's ``Textarea``, or an API field declared with
  DRF's ``style={"base_template": "textarea.html"}``.
- Dates lie within the bookings' calendar, 2000-2099: others are typing errors (year 0001, 9999)
  and would overflow date arithmetic.
- A wall-clock time on the studio's clock (settings.TIME_ZONE) exists on its day: the night the
  clocks go forward skips an hour (02:00-02:59 in most of Europe), and a time in it is refused
  rather than moved (``skipped_time_error``), wherever a time of day is typed or repeated onto
  another day. The night they go back repeats an hour (02:00-02:59 again): a time typed in it
  names two moments, and a form asks which (``repeated_time_error``) rather than guess.

``WallClockDateTimeField`` applies the clock rules to a date-time typed as one value (the admin's),
where a repeated time is told apart by the zone or UTC offset typed after it.

Forms get both rules from ``InputRulesMixin`` (FilterSets through ``InputRulesForm``); the API's
``InputSerializer`` and filter backend (``photostudio.api``) apply the text rule to every value
they read; ``control_character_errors`` applies it to a model instance built from other input (a
CSV import).
"""

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.utils import timezone

from photostudio.dates import day_text, time_text

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
OUT_OF_CALENDAR_MESSAGE = f"Give a date from {FIRST_DAY} to {LAST_DAY}."

_LINE_CHARACTERS = {"\t", "\n", "\r"}
_MINUTE = timedelta(minutes=1)


def control_character(value: str, *, multiline: bool) -> str | None:
    """The first control character in ``value`` as ``U+XXXX``, or None; ``multiline`` text may
    hold tabs and line breaks."""
    for character in value:
        if unicodedata.category(character) == "Cc" and not (multiline and character in _LINE_CHARACTERS):
            return f"U+{ord(character):04X}"
    return None


def control_character_message(character: str, *, multiline: bool) -> str:
    takes = "plain text, tabs and line breaks" if multiline else "a single line of plain text"
    return f"Remove the control character {character}: this field takes {takes}."


def in_calendar(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def skipped_time_error(day: date, clock: time) -> ValidationError | None:
    """Why the studio's clock never shows ``clock`` on ``day`` (the clocks go forward past it, or
    over the whole day: ``skipped_day_error``), or None when it does. Code ``skipped_time``."""
    if skipped := skipped_day_error(day):
        return skipped
    zone = timezone.get_default_timezone()
    wall = datetime.combine(day, clock.replace(second=0, microsecond=0))
    if _on_the_clock(wall, zone):
        return None
    skipped_from, resumes = _gap_around(wall, zone)
    return ValidationError(
        f"{clock:%H:%M} does not exist on {day_text(day)}: the clocks go forward from {skipped_from:%H:%M} to "
        f"{resumes:%H:%M} that night. Choose a time before {skipped_from:%H:%M} or from {resumes:%H:%M} on.",
        code="skipped_time",
    )


def day_on_the_clock(day: date) -> bool:
    """Whether the studio's clock shows any time of ``day``: not one its clocks jumped over whole,
    as Samoa's (Pacific/Apia) went from 29 December 2011 straight to the 31st."""
    zone = timezone.get_default_timezone()
    # A day the clock shows any of shows its first or its last minute: no zone jumps twice a day.
    return _on_the_clock(datetime.combine(day, time(0, 0)), zone) or _on_the_clock(
        datetime.combine(day, time(23, 59)), zone
    )


def skipped_day_error(day: date) -> ValidationError | None:
    """Why ``day`` is no date on the studio's clock (``day_on_the_clock``), or None when it is.
    Code ``skipped_time``, as for a time the clocks skip."""
    if day_on_the_clock(day):
        return None
    zone = timezone.get_default_timezone()
    skipped_from, resumes = _gap_around(datetime.combine(day, time(0, 0)), zone)
    last_shown = skipped_from - _MINUTE
    return ValidationError(
        f"{day_text(day)} does not exist on the studio's clock ({zone.key}): it goes from "
        f"{day_text(last_shown.date())}, {last_shown:%H:%M} straight to {day_text(resumes.date())}, {resumes:%H:%M}. "
        "Choose another date.",
        code="skipped_time",
    )


def _gap_around(wall: datetime, zone) -> tuple[datetime, datetime]:
    """The first wall-clock minute the clocks skip in the gap around the naive ``wall``, and the
    minute they go on from."""
    skipped_from = wall
    while not _on_the_clock(skipped_from - _MINUTE, zone):
        skipped_from -= _MINUTE
    # In the gap, fold 0 reads a time with the offset before the change and fold 1 with the one after.
    jump = wall.replace(tzinfo=zone, fold=1).utcoffset() - wall.replace(tzinfo=zone, fold=0).utcoffset()
    return skipped_from, skipped_from + jump


def repeated_instants(day: date, clock: time) -> tuple[datetime, datetime] | None:
    """The two moments, in UTC and in order, at which the studio's clock shows ``clock`` on ``day``
    when the clocks go back past it; None when it shows it once (or never)."""
    zone = timezone.get_default_timezone()
    wall = datetime.combine(day, clock.replace(second=0, microsecond=0))
    if not _on_the_clock(wall, zone):
        return None
    # Outside the gap, fold 0 reads a repeated time as its first showing and fold 1 as its second.
    first, second = (wall.replace(tzinfo=zone, fold=fold) for fold in (0, 1))
    if first.utcoffset() == second.utcoffset():
        return None
    return first.astimezone(UTC), second.astimezone(UTC)


def repeated_time_error(day: date, clock: time) -> ValidationError | None:
    """Why ``clock`` on ``day`` needs saying which: the clocks go back past it, so the studio's
    clock shows it twice; None when it shows it once. Code ``repeated_time``."""
    instants = repeated_instants(day, clock)
    if instants is None:
        return None
    first, second = instants
    wall = datetime.combine(day, clock.replace(second=0, microsecond=0))
    repeat_ends = wall
    while repeated_instants(repeat_ends.date(), repeat_ends.time()) is not None:
        repeat_ends += _MINUTE
    goes_back_to = repeat_ends - (second - first)
    return ValidationError(
        f"{clock:%H:%M} happens twice on {day_text(day)}, as {repeated_label(first, 0)} and "
        f"{repeated_label(second, 1)}: the clocks go back from {repeat_ends:%H:%M} to {goes_back_to:%H:%M} that night.",
        code="repeated_time",
    )


def repeated_label(instant: datetime, showing: int) -> str:
    """'02:30 CEST (first)': a repeated time as its ``showing`` (0 or 1) on the studio's clock."""
    return f"{time_text(instant)} ({('first', 'second')[showing]})"


def _on_the_clock(wall: datetime, zone) -> bool:
    """Whether the naive ``wall`` is shown by the clock of ``zone``: read there and back, a time
    the clocks skip comes back another (02:30 as 03:30)."""
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


# A date and time typed with the zone or UTC offset the studio's clock shows it in, after it:
# "2030-10-27 02:30 CET", "2030-10-27T02:30+01:00".
_ZONED_WALL_CLOCK = re.compile(
    r"(?P<wall>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)\s*(?:(?P<name>[A-Za-z]+)|(?P<offset>[+-]\d{2}(?::?\d{2})?))"
)


class WallClockDateTimeField(forms.DateTimeField):
    """A date and time on the studio's clock, typed as one value in a text box: one the clocks
    skip is refused saying so (``skipped_time_error``), not with Django's "may be ambiguous or may
    not exist". One they repeat is taken as the showing whose zone or UTC offset is typed after it
    ("2030-10-27 02:30 CET", "… +01:00"), and without one refused saying so and how to type each
    (``repeated_time_error``). A zone or offset the clock does not show at that time is refused."""

    widget = forms.DateTimeInput(format="%Y-%m-%d %H:%M", attrs={"placeholder": "YYYY-MM-DD HH:MM"})

    def to_python(self, value):
        zoned = _ZONED_WALL_CLOCK.fullmatch(value.strip()) if isinstance(value, str) else None
        if zoned is not None:
            return self._showing_named(zoned)
        try:
            return super().to_python(value)
        except ValidationError as error:
            if error.code != "ambiguous_timezone":
                raise
            wall = error.params["datetime"]
            raise skipped_time_error(wall.date(), wall.time()) or _repeated_asking_for_zone(wall) or error from None

    def _showing_named(self, zoned: re.Match) -> datetime:
        try:
            wall = datetime.fromisoformat(zoned["wall"])
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if skipped := skipped_time_error(wall.date(), wall.time()):
            raise skipped
        showings = _showings(wall)
        if zoned["name"] is not None:
            named = [showing for showing in showings if showing.tzname().casefold() == zoned["name"].casefold()]
        else:
            sign, digits = zoned["offset"][0], zoned["offset"][1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0)) * (-1 if sign == "-" else 1)
            named = [showing for showing in showings if showing.utcoffset() == offset]
        if not named:
            shown = " and ".join(
                f"{showing:%H:%M} {showing.tzname()} ({_offset_text(showing)})" for showing in showings
            )
            raise ValidationError(
                f"The studio's clock shows {wall:%H:%M} on {day_text(wall.date())} as {shown}, "
                f"not at {zoned['name'] or zoned['offset']}.",
                code="wrong_zone",
            )
        # In UTC: compared or subtracted with another time of the studio's zone, a local time's
        # fold would be ignored.
        return named[0].astimezone(UTC)


def _showings(wall: datetime) -> list[datetime]:
    """The aware moments at which the studio's clock shows the naive ``wall``: one, or two where the
    clocks go back past it."""
    zone = timezone.get_default_timezone()
    first, second = (wall.replace(tzinfo=zone, fold=fold) for fold in (0, 1))
    return [first] if first.utcoffset() == second.utcoffset() else [first, second]


def _repeated_asking_for_zone(wall: datetime) -> ValidationError | None:
    """``repeated_time_error``, telling how to type each showing with its zone (its UTC offset
    where the two have no distinct names)."""
    error = repeated_time_error(wall.date(), wall.time())
    if error is None:
        return None
    first, second = _showings(wall)
    by_name = first.tzname() != second.tzname() and first.tzname().isalpha() and second.tzname().isalpha()
    typed_first, typed_second = (
        f"{showing:%Y-%m-%d %H:%M} {showing.tzname() if by_name else _offset_text(showing)}"
        for showing in (first, second)
    )
    return ValidationError(
        f'{error.message} Type the zone after the time to say which: "{typed_first}" for the first, '
        f'"{typed_second}" for the second.',
        code=error.code,
    )


def _offset_text(showing: datetime) -> str:
    """'+01:00', the UTC offset of an aware moment."""
    minutes = int(showing.utcoffset().total_seconds() // 60)
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class _TextValidator:
    def __init__(self, *, multiline: bool):
        self.multiline = multiline

    def __call__(self, value):
        character = control_character(str(value), multiline=self.multiline)
        if character:
            raise ValidationError(
                control_character_message(character, multiline=self.multiline), code="control_character"
            )


def calendar_validator(value):
    """A date or datetime field's rule: its day lies in the calendar (``FIRST_DAY`` to ``LAST_DAY``)."""
    day = value.date() if isinstance(value, datetime) else value
    if not in_calendar(day):
        raise ValidationError(OUT_OF_CALENDAR_MESSAGE, code="out_of_calendar")


class InputRulesMixin:
    """For every form: text fields refuse control characters (tabs and line breaks are welcome
    in a ``Textarea``), date fields refuse dates outside the calendar. Passwords are left as typed,
    a NUL included: only the password check judges them.

    The rules are field validators, so a refused value is a form error on its field, found
    before the form's own ``clean()`` does any arithmetic with it.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and isinstance(field.widget, forms.PasswordInput):
                field.validators = [v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)]
            elif isinstance(field, forms.CharField):
                field.validators.append(_TextValidator(multiline=isinstance(field.widget, forms.Textarea)))
            elif (
                isinstance(field, (forms.DateField, forms.DateTimeField, forms.SplitDateTimeField))
                and calendar_validator not in field.validators  # declared with it: said once
            ):
                field.validators.append(calendar_validator)


def control_character_errors(instance: models.Model) -> dict[str, list[str]]:
    """The forms' text rule for a model instance whose text came in another way (an import): per
    field, why its text is refused. A ``TextField``, which a model form shows as a ``Textarea``,
    may hold tabs and line breaks."""
    errors = {}
    for field in instance._meta.concrete_fields:
        if isinstance(field, (models.CharField, models.TextField)):
            multiline = isinstance(field, models.TextField)
            if character := control_character(field.value_from_object(instance) or "", multiline=multiline):
                errors[field.name] = [control_character_message(character, multiline=multiline)]
    return errors


class InputRulesForm(InputRulesMixin, forms.Form):
    """A plain form with the rules: the form of every FilterSet (``Meta.form``)."""


class ChoicesInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """One or more of the choices, comma-separated (``?state=pending,confirmed``). An empty item
    names no choice: ``?state=,`` narrows nothing, as ``?state=`` does."""

    def filter(self, qs, value):
        return super().filter(qs, [item for item in value if item] if value else value)
