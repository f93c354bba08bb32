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

``WallClockDateTimeField`` applies the clock rules to a date-time typed as one value (the admin's).

Forms get both rules from ``InputRulesMixin`` (FilterSets through ``InputRulesForm``); the API's
``InputSerializer`` and filter backend (``photostudio.api``) apply the text rule to every value
they read; ``control_character_errors`` applies it to a model instance built from other input (a
CSV import).
"""

import unicodedata
from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
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
    """Why the studio's clock never shows ``clock`` on ``day`` (the clocks go forward past it), or
    None when it does. Code ``skipped_time``."""
    zone = timezone.get_default_timezone()
    wall = datetime.combine(day, clock.replace(second=0, microsecond=0))
    if _on_the_clock(wall, zone):
        return None
    skipped_from = wall
    while not _on_the_clock(skipped_from - _MINUTE, zone):
        skipped_from -= _MINUTE
    # In the gap, fold 0 reads a time with the offset before the change and fold 1 with the one after.
    jump = wall.replace(tzinfo=zone, fold=1).utcoffset() - wall.replace(tzinfo=zone, fold=0).utcoffset()
    resumes = skipped_from + jump
    return ValidationError(
        f"{clock:%H:%M} does not exist on {day_text(day)}: the clocks go forward from {skipped_from:%H:%M} to "
        f"{resumes:%H:%M} that night. Choose a time before {skipped_from:%H:%M} or from {resumes:%H:%M} on.",
        code="skipped_time",
    )


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


class WallClockDateTimeField(forms.DateTimeField):
    """A date and time on the studio's clock, typed as one value: one the clocks skip or repeat
    is refused saying so (``skipped_time_error``, ``repeated_time_error``), not with Django's
    "may be ambiguous or may not exist"."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as error:
            if error.code != "ambiguous_timezone":
                raise
            wall = error.params["datetime"]
            raise (
                skipped_time_error(wall.date(), wall.time()) or repeated_time_error(wall.date(), wall.time()) or error
            ) from None


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
    in a ``Textarea``), date fields refuse dates outside the calendar. Passwords are left as typed.

    The rules are field validators, so a refused value is a form error on its field, found
    before the form's own ``clean()`` does any arithmetic with it.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.PasswordInput):
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
