"""The admin's forms. Space: opening hours edited per weekday (open or closed, two times), stored in
the JSON shape ``Space.opening_hours`` documents. Closure: its times as one field each."""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError

from bookings.models import WEEKDAYS, Closure, Space, opening_hours_errors
from photostudio.inputs import InputRulesMixin, WallClockDateTimeField

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# <input type="time"> cannot hold 24:00: closing at midnight shows and is typed as 00:00.
MIDNIGHT = "24:00"


def _week(value) -> dict:
    """Opening hours in their stored shape, a missing day closed: the field's cleaned value."""
    hours = value if isinstance(value, dict) else {}
    return {day: hours.get(day) or None for day in WEEKDAYS}


class OpeningHoursWidget(forms.Widget):
    """A row per weekday: an "Open" checkbox, the opening and the closing time."""

    template_name = "bookings/widgets/opening_hours.html"

    class Media:
        css = {"all": ["css/opening_hours.css"]}

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        base_id = context["widget"]["attrs"].get("id") or f"id_{name}"
        context["widget"]["days"] = [
            {"key": day, "name": day_name, "id": f"{base_id}_{day}", "field": f"{name}_{day}", **self._row(value, day)}
            for day, day_name in zip(WEEKDAYS, DAY_NAMES, strict=True)
        ]
        return context

    @staticmethod
    def _row(value, day) -> dict:
        entry = (value or {}).get(day) if isinstance(value, dict) else None
        if isinstance(entry, dict):  # as typed into a form that came back with errors
            return entry
        if isinstance(entry, list) and len(entry) == 2:
            closes = "00:00" if entry[1] == MIDNIGHT else entry[1]
            return {"open": True, "from": entry[0], "until": closes}
        return {"open": False, "from": "", "until": ""}

    def value_from_datadict(self, data, files, name):
        return {
            day: {
                "open": f"{name}_{day}_open" in data,
                "from": data.get(f"{name}_{day}_from", "").strip(),
                "until": data.get(f"{name}_{day}_until", "").strip(),
            }
            for day in WEEKDAYS
        }

    def value_omitted_from_data(self, data, files, name):
        # An unticked "Open" sends nothing, and means closed.
        return False

    def id_for_label(self, id_):
        return f"{id_}_mon_open" if id_ else id_


class OpeningHoursField(forms.Field):
    """Cleans the widget's rows into ``{"mon": ["08:00", "22:00"], "sun": None, …}``, naming the day
    of each mistake."""

    widget = OpeningHoursWidget

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text", "Untick Open for a day the space is closed. A closing time of 00:00 means midnight."
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return value if isinstance(value, dict) and _typed(value) else _week(value)

    def to_python(self, value):
        if not isinstance(value, dict) or not _typed(value):
            return _week(value)
        hours, problems = {}, []
        for day, day_name in zip(WEEKDAYS, DAY_NAMES, strict=True):
            row = value.get(day) or {}
            if not row.get("open"):
                hours[day] = None
                continue
            opens, closes = _clock(row.get("from")), _clock(row.get("until"))
            if opens is None or closes is None:
                problems.append(f"{day_name}: give the opening and the closing time as HH:MM, or untick Open.")
                continue
            closes = MIDNIGHT if closes == "00:00" else closes
            if closes <= opens:
                problems.append(f"{day_name}: the space must close after it opens ({opens} – {row['until']}).")
                continue
            hours[day] = [opens, closes]
        if problems:
            raise ValidationError(problems)
        return hours

    def validate(self, value):
        super().validate(value)
        problems = opening_hours_errors(value)
        if problems:
            raise ValidationError(problems)

    def has_changed(self, initial, data):
        try:
            return _week(initial) != self.to_python(data)
        except ValidationError:
            return True


def _typed(value: dict) -> bool:
    return any(isinstance(entry, dict) for entry in value.values())


def _clock(text) -> str | None:
    """ "HH:MM" of a time typed as HH:MM (or HH:MM:00, as some browsers send it); None if unreadable."""
    for pattern in ("%H:%M", "%H:%M:%S"):
        try:
            moment = datetime.strptime(text or "", pattern)
        except ValueError:
            continue
        return None if moment.second else f"{moment:%H:%M}"
    return None


class SpaceAdminForm(InputRulesMixin, forms.ModelForm):
    opening_hours = OpeningHoursField()

    class Meta:
        model = Space
        fields = ["name", "slug", "capacity", "hourly_rate", "buffer_minutes", "opening_hours", "is_active"]


class ClosureAdminForm(InputRulesMixin, forms.ModelForm):
    """A closure's space (empty: the whole studio), times on the studio's wall clock, and reason."""

    # Declared here, as the admin would otherwise make each a date and a time field of its own.
    start = WallClockDateTimeField(help_text="On the studio's clock, e.g. 2030-01-14 12:00.")
    end = WallClockDateTimeField(help_text="Bookings may start from then on.")

    class Meta:
        model = Closure
        fields = ["space", "start", "end", "reason"]
