"""Shapes of the staff pages' forms. They check what was typed; ``bookings.services`` decide, and
``add_domain_error`` shows a service's refusal on the fields it names."""

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from bookings.models import (
    CLIENT_NOTES_MAX_LENGTH,
    REASON_MAX_LENGTH,
    SERIES_MAX_OCCURRENCES,
    BookingState,
    Space,
    local_instant,
    studio_day,
)
from bookings.reports import REPORT_MAX_DAYS
from bookings.selectors import known_client_named_otherwise
from employees.models import Employee, Role
from photostudio.dates import day_text, moment_text, time_text
from photostudio.errors import BookingOverlap, DomainError, RepeatedTime, SeriesConflict, SkippedTime, SpaceClosed
from photostudio.inputs import (
    InputRulesMixin,
    in_calendar,
    repeated_instants,
    repeated_label,
    repeated_time_error,
    skipped_day_error,
    skipped_time_error,
)


class DomainErrorsMixin:
    """Show a service's DomainError on the form: each entry of its ``details`` on the field it
    names (renamed through ``detail_fields``), anything else as an error of the whole form."""

    detail_fields: dict[str, str] = {}
    # The field that shows an overlap or a closure; an overlap's message names the conflicting
    # booking, which the page links to as ``conflict_id``.
    overlap_field: str | None = None
    conflict_id: int | None = None

    def add_domain_error(self, error: DomainError) -> None:
        if isinstance(error, BookingOverlap) and self.overlap_field:
            self.conflict_id = error.details.get("conflicting_booking", {}).get("id")
            self.add_error(self.overlap_field, error.message)
            return
        if isinstance(error, SpaceClosed) and self.overlap_field:
            self.add_error(self.overlap_field, error.message)
            return
        shown = False
        for name, messages in error.details.items():
            field = self.detail_fields.get(name, name)
            if field in self.fields and isinstance(messages, list):
                for message in messages:
                    self.add_error(field, message)
                shown = True
        if not shown:
            self.add_error(None, error.message)


@dataclass(frozen=True)
class AlternativeChoice:
    """A time or space offered instead of a taken one, as a button: its text and what it sends."""

    label: str
    # The space's slug and the exact start and end: "studio_a 2030-01-14T12:15:00+00:00 2030-01-14T14:15:00+00:00".
    value: str


@dataclass(frozen=True)
class OfferedAlternatives:
    """What a form refused for an overlap offers instead of the asked space and times."""

    space: Space
    start: datetime  # the asked times, on the studio's clock
    end: datetime
    people: int
    same_space: list[AlternativeChoice]
    other_spaces: list[AlternativeChoice]


class SeriesRepeatedTimeMixin:
    """Asks which moment is meant where a series' service refused a time the clocks show twice on
    one of the series' dates (``RepeatedTime``), which a form cannot ask up front as it does for
    its own day (``TimesMixin``): ``repeated_choices`` holds a button for each, named
    ``alternative`` and valued with the moments but no space, so everything else stays as typed.
    ``moments_chosen`` are those sent back, for the service's ``exact_times``."""

    ALTERNATIVE = "alternative"
    repeated_choices: list[AlternativeChoice] = []

    @property
    def moments_chosen(self) -> list[datetime]:
        """The moments of the choice among ``repeated_choices`` the form was sent with; [] for none
        (or a choice that names a space)."""
        return _exact_times(self.data.get(self.ALTERNATIVE, ""))

    def add_domain_error(self, error: DomainError) -> None:
        if isinstance(error, RepeatedTime):
            self.repeated_choices = _repeated_choices("", error.moments)
        super().add_domain_error(error)


class AlternativesMixin(SeriesRepeatedTimeMixin):
    """Conflict help: on a ``booking_overlap``, ``offered`` holds the free times and spaces the
    service offered instead, as one-click choices. Each is a submit button named ``alternative``
    whose value replaces the space and times the form was sent with, so the choice is booked with
    everything else as typed. A time typed in the hour a change of clocks repeats is asked about
    the same way: ``repeated_choices`` holds its two moments, one button each; so is such a time
    on a later date of a series booked with the form (``SeriesRepeatedTimeMixin``).

    A choice carries its instants, not only its wall-clock times: in the repeated hour "02:30"
    names two moments, and the one offered is the one booked (``TimesMixin.exact_instants``)."""

    MOVE_FIELDS = ("space", "date", "start_time", "end_time")
    offered: OfferedAlternatives | None = None

    def __init__(self, data=None, *args, **kwargs):
        chosen = _chosen_alternative((data or {}).get(self.ALTERNATIVE, ""))
        self.alternative_chosen = chosen is not None
        if chosen is not None:
            data = data.copy()
            for name, value in _typed_as(*chosen).items():
                data[name] = value
        super().__init__(data, *args, **kwargs)
        chosen_instants = chosen[1:] if chosen is not None else self.moments_chosen
        self.exact_instants = [*chosen_instants, *self.exact_instants]

    def clean(self):
        cleaned = super().clean()
        if self.repeated_options and cleaned.get("space") is not None:
            self.repeated_choices = _repeated_choices(cleaned["space"].slug, self.repeated_options)
        return cleaned

    def add_domain_error(self, error: DomainError) -> None:
        alternatives = error.details.get("alternatives") if isinstance(error, BookingOverlap) else None
        if alternatives is not None:
            # Before the error is added, which takes its field out of cleaned_data.
            asked, zone = self.cleaned_data, timezone.get_default_timezone()
            self.offered = OfferedAlternatives(
                space=asked["space"],
                start=timezone.localtime(asked["start"], zone),
                end=timezone.localtime(asked["end"], zone),
                people=asked["people_count"],
                same_space=[
                    _alternative_choice(asked["space"].slug, choice["start"], choice["end"])
                    for choice in alternatives["same_space"]
                ],
                other_spaces=[
                    _alternative_choice(choice["space"], choice["start"], choice["end"], label=choice["space_name"])
                    for choice in alternatives["other_spaces"]
                ],
            )
        super().add_domain_error(error)


def _alternative_choice(slug: str, start: str, end: str, *, label: str = "") -> AlternativeChoice:
    """``start`` and ``end`` as the service offers them: ISO 8601 instants with their offset."""
    label = label or f"{time_text(parse_datetime(start))}–{time_text(parse_datetime(end))}"
    return AlternativeChoice(label=label, value=" ".join(part for part in (slug, start, end) if part))


def _chosen_alternative(value: str) -> tuple[str, datetime, datetime] | None:
    """The space's slug and the exact times of a choice's value; None when it is unreadable
    (the form is then read as typed)."""
    parts = value.split()
    if len(parts) != 3:
        return None
    slug, *times = parts
    instants = _exact_times(" ".join(times))
    if len(instants) != 2:
        return None
    return slug, *instants


def _typed_as(slug: str, start: datetime, end: datetime) -> dict[str, str]:
    """A space and exact times as the form's fields show them, on the studio's clock."""
    zone = timezone.get_default_timezone()
    local_start, local_end = timezone.localtime(start, zone), timezone.localtime(end, zone)
    return {
        "space": slug,
        "date": f"{local_start:%Y-%m-%d}",
        "start_time": f"{local_start:%H:%M}",
        "end_time": f"{local_end:%H:%M}",
    }


def _exact_times(value: str) -> list[datetime]:
    """The instants, in UTC, of space-separated ISO 8601 moments with their offset; [] when one
    is unreadable."""
    instants = []
    for moment in value.split():
        try:
            instant = parse_datetime(moment)
        except ValueError:
            return []
        if instant is None or timezone.is_naive(instant) or not in_calendar(instant.date()):
            return []
        instants.append(instant.astimezone(UTC))
    return instants


def _repeated_choices(slug: str, options: dict[str, list[datetime]]) -> list[AlternativeChoice]:
    """A button for each way to read a start and an end of which one or both name two moments;
    its value names no space when ``slug`` is empty (a form that keeps the space it has)."""
    choices = []
    for start_showing, start in enumerate(options["start"]):
        for end_showing, end in enumerate(options["end"]):
            if end <= start:
                continue
            labels = []
            if len(options["start"]) == 2:
                labels.append(repeated_label(start, start_showing))
            if len(options["end"]) == 2:
                labels.append(repeated_label(end, end_showing))
            choices.append(_alternative_choice(slug, start.isoformat(), end.isoformat(), label="–".join(labels)))
    return choices


def _time_input():
    return forms.TimeInput(format="%H:%M", attrs={"type": "time", "step": 900})


class TimesMixin:
    """``date``, ``start_time`` and ``end_time`` on the studio's wall clock, as ``start``/``end``.

    A date the clocks skip whole is refused on its field, a time they skip that day on its own. A
    time they repeat is taken as one of
    ``exact_instants`` it reads as (the form was given its moment), or else asked about on its
    field, ``repeated_options`` holding the moments each of start and end may be.

    The form carries the moments it was given in a hidden ``exact_times`` (``exact_times_value``),
    so a page shown again, or opened from a link that gave them (``BookingPrefillForm``), keeps
    them while its times read as them."""

    EXACT_TIMES = "exact_times"
    exact_instants: list[datetime] = []
    repeated_options: dict[str, list[datetime]] = {}

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        given = data if data is not None else kwargs.get("initial") or {}
        self.exact_instants = _exact_times(given.get(self.EXACT_TIMES, ""))

    @property
    def exact_times_value(self) -> str:
        """The moments this form's wall-clock times stand for, where they name two."""
        cleaned = getattr(self, "cleaned_data", {})
        known = [*(cleaned[name] for name in ("start", "end") if name in cleaned), *self.exact_instants]
        repeated = []
        for instant in known:
            local = timezone.localtime(instant, timezone.get_default_timezone())
            if instant not in repeated and repeated_instants(local.date(), local.time()) is not None:
                repeated.append(instant)
        return " ".join(instant.isoformat() for instant in repeated)

    def clean(self):
        cleaned = super().clean()
        if all(cleaned.get(name) is not None for name in ("date", "start_time", "end_time")):
            day, start_time, end_time = cleaned["date"], cleaned["start_time"], cleaned["end_time"]
            if skipped := skipped_day_error(day):  # said once, of the date, not of each time
                self.add_error("date", skipped)
                return cleaned
            end_day = day + timedelta(days=1) if end_time == time(0, 0) else day
            options = {}
            for name, field, on_day, clock in (
                ("start", "start_time", day, start_time),
                ("end", "end_time", end_day, end_time),
            ):
                if name == "end" and clock == time(0, 0):
                    # The moment the day ends, which every day has, also one the clocks leave at
                    # midnight (00:00 to 01:00 in the Azores).
                    error, options[name] = None, [local_instant(on_day, "00:00")]
                else:
                    error, options[name] = self._read_clock(on_day, clock)
                if error is not None:
                    self.add_error(field, error)
            if all(len(instants) == 1 for instants in options.values()):
                cleaned["start"], cleaned["end"] = options["start"][0], options["end"][0]
            elif all(options.values()):
                self.repeated_options = options
        return cleaned

    def _read_clock(self, day: date, clock: time) -> tuple[ValidationError | None, list[datetime]]:
        """Why ``clock`` on ``day`` is not one moment, if it is not, and the moments it may be."""
        zone = timezone.get_default_timezone()
        for instant in self.exact_instants:
            local = timezone.localtime(instant, zone)
            if (local.date(), local.time()) == (day, clock.replace(second=0, microsecond=0)):
                return None, [instant]
        if skipped := skipped_time_error(day, clock):
            return skipped, []
        if repeated := repeated_time_error(day, clock):
            return repeated, list(repeated_instants(day, clock))
        return None, [local_instant(day, f"{clock:%H:%M}")]


def active_spaces():
    return Space.objects.filter(is_active=True).order_by("name")


def active_photographers():
    return Employee.objects.filter(role=Role.PHOTOGRAPHER, is_active=True).order_by("full_name", "username")


def _price_label() -> str:
    return f"Price ({settings.STUDIO_CURRENCY})"


class PhotographerChoiceField(forms.ModelChoiceField):
    """A photographer, a deactivated one (kept on their bookings) marked as such."""

    def label_from_instance(self, obj):
        return str(obj) if obj.is_active else f"{obj} (inactive)"


class SessionRequestForm(TimesMixin, InputRulesMixin, forms.Form):
    """Who wants which space when: what a new booking and a waitlist entry both ask."""

    client_phone = forms.CharField(
        label="Client's phone",
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "placeholder": "+1 415 555 0101"}),
    )
    client_name = forms.CharField(
        label="Client's name",
        max_length=200,
        required=False,
        help_text="Needed for a new client. A known phone number books its client.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    client_email = forms.EmailField(label="Client's e-mail", required=False)
    space = forms.ModelChoiceField(queryset=active_spaces(), to_field_name="slug", empty_label=None)
    date = forms.DateField(widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    start_time = forms.TimeField(label="Starts", widget=_time_input())
    end_time = forms.TimeField(label="Ends", widget=_time_input(), help_text="00:00 means midnight.")
    people_count = forms.IntegerField(label="People", min_value=1, max_value=1000, initial=1)
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class BookingForm(AlternativesMixin, DomainErrorsMixin, SessionRequestForm):
    """A new booking. An existing client is found by phone; a new phone registers a client with
    the name given. ``price`` exists only for those who may set prices by hand."""

    detail_fields = {"start": "start_time", "end": "end_time"}
    overlap_field = "start_time"

    photographer = forms.ModelChoiceField(
        queryset=active_photographers(), required=False, empty_label="No photographer yet"
    )
    price = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        help_text="Leave empty for the space's hourly rate.",
    )
    # Asked only when needed: shown with the error that asks them.
    book_known_client = forms.BooleanField(required=False, label="Book the known client")
    confirm_past = forms.BooleanField(required=False, label="Yes, book this session in the past")

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["space"].queryset = active_spaces()
        self.fields["photographer"].queryset = active_photographers()
        if actor.has_perm("bookings.override_booking_price"):
            self.fields["price"].label = _price_label()
        else:
            del self.fields["price"]
        # Typing a phone number or a name lists the known clients it matches (htmx).
        search = {
            "hx-get": reverse("client-search"),
            "hx-trigger": "input changed delay:300ms",
            "hx-target": "#client-matches",
        }
        for name in ("client_phone", "client_name"):
            self.fields[name].widget.attrs.update(search)

    def clean(self):
        cleaned = super().clean()
        phone, name = cleaned.get("client_phone"), cleaned.get("client_name")
        known = known_client_named_otherwise(phone=phone, name=name) if phone and name else None
        if known is not None and not cleaned.get("book_known_client"):
            self["book_known_client"].label = f"Book {known.full_name} (the name typed is not kept)"
            self.add_error(
                "book_known_client",
                f"{known.phone} belongs to {known.full_name}, not {name.strip()}. Book {known.full_name}, "
                "or correct the phone number if this is someone else.",
            )
        start = cleaned.get("start")
        if start is not None and start < timezone.now() and not cleaned.get("confirm_past"):
            self.add_error(
                "confirm_past",
                f"This session starts in the past ({moment_text(start)}). Confirm to book it anyway, "
                "or correct the date and time.",
            )
        return cleaned

    def asks(self, name: str) -> bool:
        """Whether the page shows the confirmation ``name``: once asked, until the booking is saved."""
        return bool(self[name].errors or self[name].value())

    @property
    def asks_known_client(self) -> bool:
        return self.asks("book_known_client")

    @property
    def asks_past(self) -> bool:
        return self.asks("confirm_past")

    def booking_arguments(self) -> dict:
        """``create_booking``'s arguments, but the actor."""
        data = self.cleaned_data
        return {
            "space": data["space"],
            "start": data["start"],
            "end": data["end"],
            "people_count": data["people_count"],
            "client_name": data["client_name"],
            "client_phone": data["client_phone"],
            "client_email": data["client_email"],
            "notes": data["notes"],
            "price": data.get("price"),
            "photographer": data["photographer"],
        }


class RepeatForm(InputRulesMixin, forms.Form):
    """The booking form's optional *Repeat*: the same slot every few weeks, for a number of dates
    or until a date (``bookings.series.create_series``). When some dates are taken, or one has no
    such time (the clocks skip it that night), it lists them (``conflicts``) and asks whether to
    book the free dates only."""

    repeat_every_weeks = forms.TypedChoiceField(
        label="How often",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Does not repeat"), (1, "Every week"), *((n, f"Every {n} weeks") for n in (2, 3, 4, 6, 8))],
    )
    repeat_count = forms.IntegerField(
        label="Number of dates",
        required=False,
        min_value=1,
        max_value=SERIES_MAX_OCCURRENCES,
        help_text=f"The first included; at most {SERIES_MAX_OCCURRENCES}, within a year.",
    )
    repeat_until = forms.DateField(
        label="Or until",
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text="The last day to book.",
    )
    # Asked only when some dates are taken: shown with the list of them.
    repeat_free_dates_only = forms.BooleanField(required=False, label="Book the free dates only")

    conflicts: list[dict] = []

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("repeat_every_weeks") is not None and (cleaned.get("repeat_count") is None) == (
            cleaned.get("repeat_until") is None
        ):
            self.add_error("repeat_count", "Give the number of dates or the last day, one of them.")
        return cleaned

    @property
    def repeats(self) -> bool:
        return self.cleaned_data.get("repeat_every_weeks") is not None

    def series_arguments(self) -> dict:
        """``create_series``'s arguments beyond those of a single booking."""
        data = self.cleaned_data
        return {
            "interval_weeks": data["repeat_every_weeks"],
            "count": data["repeat_count"],
            "until": data["repeat_until"],
            "skip_conflicts": data["repeat_free_dates_only"],
        }

    def add_domain_error(self, error: DomainError) -> bool:
        """Show ``error`` here when it concerns the repeat: taken dates, or the rule's own fields.
        False when it is the booking's to show."""
        if isinstance(error, SeriesConflict):
            self.conflicts = [
                {**conflict, "date": date.fromisoformat(conflict["date"])} for conflict in error.details["conflicts"]
            ]
            self.add_error(
                "repeat_free_dates_only", f"{error.message} Book the free dates only, or choose another time."
            )
            return True
        if isinstance(error, SkippedTime):
            # The typed time exists on the first date but not on this one: the others can be booked.
            self.conflicts = [{"date": error.day, "code": error.refusal_code, "message": error.message}]
            self.add_error(
                "repeat_free_dates_only",
                f"Nothing was booked: 1 date of the series cannot be booked ({day_text(error.day)}). "
                "Book the free dates only, or choose another time.",
            )
            return True
        fields = {"interval_weeks": "repeat_every_weeks", "count": "repeat_count", "until": "repeat_until"}
        named = [(fields[name], messages) for name, messages in error.details.items() if name in fields]
        for field, messages in named:
            for message in messages:
                self.add_error(field, message)
        return bool(named)


class BookingEditForm(AlternativesMixin, DomainErrorsMixin, TimesMixin, InputRulesMixin, forms.Form):
    """A pending or confirmed booking's times and space (``reschedule_booking``) and its details
    (``update_booking``): people, photographer, notes and, for those who may, a hand-set price.

    Only what the person changed is saved: each field carries the value it was shown with, so a
    value someone else changed meanwhile, or a deactivated photographer, stays as it is. The form
    carries the revision it was opened at too, which the service checks: a booking someone else
    changed since is not changed, and ``rebased`` shows the form again on what it says now.
    """

    detail_fields = {"start": "start_time", "end": "end_time"}
    overlap_field = "start_time"

    space = forms.ModelChoiceField(
        queryset=active_spaces(), to_field_name="slug", empty_label=None, show_hidden_initial=True
    )
    date = forms.DateField(widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}), show_hidden_initial=True)
    start_time = forms.TimeField(label="Starts", widget=_time_input(), show_hidden_initial=True)
    end_time = forms.TimeField(
        label="Ends", widget=_time_input(), help_text="00:00 means midnight.", show_hidden_initial=True
    )
    people_count = forms.IntegerField(label="People", min_value=1, max_value=1000, show_hidden_initial=True)
    photographer = PhotographerChoiceField(
        queryset=active_photographers(), required=False, empty_label="No photographer", show_hidden_initial=True
    )
    notes = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), show_hidden_initial=True
    )
    price = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        help_text="Leave empty for the space's hourly rate.",
        show_hidden_initial=True,
    )
    # Not required: a page opened before the form carried it still saves, as it did then.
    revision = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, data=None, *, booking, actor):
        zone = timezone.get_default_timezone()
        start, end = timezone.localtime(booking.start, zone), timezone.localtime(booking.end, zone)
        initial = {
            "space": booking.space.slug,
            "date": start.date(),
            "start_time": start.time(),
            "end_time": end.time(),
            "people_count": booking.people_count,
            "photographer": booking.photographer_id,
            "notes": booking.notes,
            "price": booking.price if booking.price_overridden else None,
            "revision": booking.revision,
        }
        super().__init__(data, initial=initial)
        self.booking, self.actor = booking, actor
        # A wall-clock time left as shown keeps its instant: in the hour a DST change repeats,
        # "02:30" names two moments, and the booking's is the one meant.
        self.exact_instants = [*self.exact_instants, booking.start, booking.end]
        # The booking's own space stays a choice once deactivated, so its details can still change.
        self.fields["space"].queryset = Space.objects.filter(Q(is_active=True) | Q(pk=booking.space_id)).order_by(
            "name"
        )
        photographers = Employee.objects.filter(role=Role.PHOTOGRAPHER).filter(
            Q(is_active=True) | Q(pk=booking.photographer_id)
        )
        self.fields["photographer"].queryset = photographers.order_by("full_name", "username")
        if actor.has_perm("bookings.override_booking_price"):
            self.fields["price"].label = _price_label()
        else:
            del self.fields["price"]

    def move_arguments(self) -> dict | None:
        """``reschedule_booking``'s arguments when the person changed the space or the times, typed or
        chosen among the alternatives offered, else None."""
        changed = set(self.changed_data)
        if not (self.alternative_chosen or changed & set(self.MOVE_FIELDS)):
            return None
        data = self.cleaned_data
        # A choice names its instants, which may read as the times shown (in the hour a DST change
        # repeats, the other "02:15"); a wall-clock time left as shown keeps the booking's instant.
        start = data["start"] if self.alternative_chosen or changed & {"date", "start_time"} else self.booking.start
        end = data["end"] if self.alternative_chosen or changed & {"date", "end_time"} else self.booking.end
        if (data["space"].pk, start, end) == (self.booking.space_id, self.booking.start, self.booking.end):
            return None
        return {"space": data["space"], "start": start, "end": end}

    def detail_changes(self) -> dict:
        """``update_booking``'s changes: the details the person changed."""
        return {name: self.cleaned_data[name] for name in BOOKING_DETAILS if name in self.changed_data}

    def expected_revisions(self) -> set[int] | None:
        """The revisions the change may be made on (the one the form was opened at), or None for a
        page opened before the form carried it."""
        revision = self.cleaned_data["revision"]
        return None if revision is None else {revision}

    def rebased(self, booking) -> "BookingEditForm":
        """This form again on ``booking`` as it is now, after someone else changed it since the
        form was opened: what the person changed stays as typed, every other field shows what the
        booking says now, and saving it applies their changes to this revision. Its error names the
        fields the other change gave another value, with that value where the person's covers it."""
        now = BookingEditForm(booking=booking, actor=self.actor)
        shown = self.data
        data = shown.copy()
        data.pop(self.ALTERNATIVE, None)
        changed_by_others = []
        for name, field in now.fields.items():
            if name == "revision":
                continue
            value = now[name].initial
            seen = field.hidden_widget().value_from_datadict(shown, self.files, now.add_initial_prefix(name))
            if field.has_changed(value, seen):
                label = str(now[name].label)
                if name in self.changed_data:
                    label += f" (now {_value_text(booking, field, name, value)}; yours is kept below)"
                changed_by_others.append(label)
            if name not in self.changed_data:
                data[name] = value
            data[now.add_initial_prefix(name)] = value
        data["revision"] = booking.revision
        rebased = BookingEditForm(data, booking=booking, actor=self.actor)
        rebased.full_clean()
        what = f": {'; '.join(changed_by_others)}" if changed_by_others else ""
        rebased.add_error(
            None,
            f"Someone else changed booking #{booking.pk} since you opened it{what}. Here is what it says now, "
            "with the changes you made kept: check them and save again.",
        )
        return rebased


def _value_text(booking, field: forms.Field, name: str, value) -> str:
    """A value of the booking edit form's field ``name`` as the person reads it, quoted: days and
    times as the booking's page writes them, an empty field as "empty"."""
    if isinstance(field, forms.ModelChoiceField):
        return f"“{getattr(booking, name) or field.empty_label}”"
    when = {"date": day_text(booking.start), "start_time": time_text(booking.start), "end_time": time_text(booking.end)}
    if name in when:
        return f"“{when[name]}”"
    return "empty" if value in (None, "") else f"“{value}”"


BOOKING_DETAILS = ("people_count", "photographer", "notes", "price")


class PricePreviewForm(TimesMixin, InputRulesMixin, forms.Form):
    space = forms.ModelChoiceField(queryset=Space.objects.all(), to_field_name="slug")
    date = forms.DateField()
    start_time = forms.TimeField()
    end_time = forms.TimeField()


class TransitionForm(DomainErrorsMixin, InputRulesMixin, forms.Form):
    target_state = forms.ChoiceField(choices=BookingState.choices, widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self["target_state"].value() == BookingState.CANCELLED:
            self.fields[
                "reason"
            ].help_text = "Say why: the client sees it in the cancellation e-mail and it stays in the history."
        else:
            # The booking page shows this form beside the cancel form: its own ids and label.
            self.auto_id = "undo_%s"
            self.fields["reason"].label = "Why undo it?"
            self.fields["reason"].help_text = "Say why: it stays in the booking's history."


class CancelForm(InputRulesMixin, forms.Form):
    """The reason for cancelling bookings in bulk (the admin's action)."""

    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": "Give a reason for cancelling."},
    )


class SeriesActionForm(DomainErrorsMixin, InputRulesMixin, forms.Form):
    """A change to a series from one of its bookings' page: from that booking's date on, or all of it."""

    detail_fields = {"start": "start_time", "end": "end_time"}
    booking = forms.IntegerField(widget=forms.HiddenInput)
    from_day = forms.DateField(widget=forms.HiddenInput)
    scope = forms.ChoiceField(
        label="Which dates?",
        choices=[("from", "This date and the later ones"), ("all", "Every date of the series")],
        initial="from",
        widget=forms.RadioSelect,
    )
    # The booking page shows each form beside the booking's own: ids of their own.
    id_prefix = "series"
    # The dates refused, when some are (``SeriesConflict``), each with its date, code and message.
    conflicts: list[dict] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id=f"{self.id_prefix}_%s", **kwargs)

    @classmethod
    def for_booking(cls, booking) -> "SeriesActionForm":
        return cls(initial={"booking": booking.pk, "from_day": studio_day(booking.start), "scope": "from"})

    def add_domain_error(self, error: DomainError) -> None:
        if isinstance(error, SeriesConflict):
            self.conflicts = [
                {**conflict, "date": date.fromisoformat(conflict["date"])} for conflict in error.details["conflicts"]
            ]
            self.add_error(None, error.message)
            return
        super().add_domain_error(error)

    def _from_day(self) -> date | None:
        return self.cleaned_data["from_day"] if self.cleaned_data["scope"] == "from" else None


class SeriesCancelForm(SeriesActionForm):
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Say why: it stays in each booking's history.",
        error_messages={"required": "Give a reason for cancelling."},
    )

    def cancel_arguments(self) -> dict:
        """``cancel_series``'s arguments but the series and the actor."""
        return {"reason": self.cleaned_data["reason"], "from_day": self._from_day()}


class SeriesMoveForm(SeriesRepeatedTimeMixin, SeriesActionForm):
    """New times, another weekday and/or another space for a series' dates.

    Its times apply to every date, so it cannot ask about a time on the form's own day as the
    booking forms do (``TimesMixin``): the service names the date where the clocks show a new
    time twice, and the form asks which moment is meant there (``SeriesRepeatedTimeMixin``). The
    moments chosen go back to the service as ``exact_times`` and are kept in a hidden field of
    that name while the form comes back for another reason."""

    EXACT_TIMES = TimesMixin.EXACT_TIMES

    id_prefix = "series_move"
    start_time = forms.TimeField(label="New start", required=False, widget=_time_input())
    end_time = forms.TimeField(label="New end", required=False, widget=_time_input(), help_text="With the start.")
    weekday = forms.TypedChoiceField(
        label="Day of the week",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "The same day"), *enumerate(calendar.day_name)],
    )
    space = forms.ModelChoiceField(queryset=active_spaces(), required=False, empty_label="The same space")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["space"].queryset = active_spaces()
        self.exact_instants = [*self.moments_chosen, *_exact_times(self.data.get(self.EXACT_TIMES, ""))]

    @property
    def exact_times_value(self) -> str:
        return " ".join(instant.isoformat() for instant in self.exact_instants)

    def move_arguments(self, booking) -> dict:
        """``move_series``'s arguments but the series and the actor: the weekday as days from
        ``booking``'s."""
        data = self.cleaned_data
        weekday = data["weekday"]
        return {
            "from_day": self._from_day(),
            "start_time": data["start_time"],
            "end_time": data["end_time"],
            "shift_days": 0 if weekday is None else weekday - studio_day(booking.start).weekday(),
            "space": data["space"],
            "exact_times": self.exact_instants,
        }


class ClientForm(DomainErrorsMixin, InputRulesMixin, forms.Form):
    """A client's details. Each field carries the value it was shown with, so only what the person
    changed is saved (``changed_data``) and a field someone else changed meanwhile keeps their value."""

    full_name = forms.CharField(label="Name", max_length=200, show_hidden_initial=True)
    phone = forms.CharField(max_length=32, widget=forms.TextInput(attrs={"type": "tel"}), show_hidden_initial=True)
    email = forms.EmailField(label="E-mail", required=False, show_hidden_initial=True)
    notes = forms.CharField(
        required=False,
        max_length=CLIENT_NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        show_hidden_initial=True,
    )


class SearchForm(InputRulesMixin, forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)


class CalendarForm(InputRulesMixin, forms.Form):
    """Which day or week of the calendar to show; anything unreadable falls back to today."""

    VIEWS = [("day", "Day"), ("week", "Week")]

    date = forms.DateField(required=False)
    view = forms.ChoiceField(choices=VIEWS, required=False)
    space = forms.ModelChoiceField(queryset=Space.objects.all(), to_field_name="slug", required=False)

    def choice(self, *, today: date) -> tuple[date, str, Space | None]:
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("date") or today, data.get("view") or "day", data.get("space")


class ReportForm(InputRulesMixin, forms.Form):
    """The period of the reports: whole local days, ``start`` to ``end`` inclusive."""

    start = forms.DateField(label="From", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))

    @staticmethod
    def default_period(today: date) -> dict:
        return {"start": today - timedelta(days=29), "end": today}

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The period must end on or after its first day.")
            elif (end - start).days >= REPORT_MAX_DAYS:
                self.add_error("end", f"Choose at most five years ({REPORT_MAX_DAYS:,} days).")
        return cleaned


class BookingPrefillForm(InputRulesMixin, forms.Form):
    """What a link to a new booking says about it (the calendar's free slot, a client's page);
    unreadable values are left out. A link may name its space and exact times as an
    ``alternative`` does (the calendar's cells do), which says which moment a time in the hour
    a change of clocks repeats is."""

    space = forms.ModelChoiceField(queryset=Space.objects.filter(is_active=True), to_field_name="slug", required=False)
    date = forms.DateField(required=False)
    start_time = forms.TimeField(required=False)
    end_time = forms.TimeField(required=False)
    client_phone = forms.CharField(required=False, max_length=32)
    client_name = forms.CharField(required=False, max_length=200)

    def __init__(self, data, *args, **kwargs):
        self.chosen = _chosen_alternative(data.get(AlternativesMixin.ALTERNATIVE, ""))
        if self.chosen is not None:
            data = data.copy()
            for name, value in _typed_as(*self.chosen).items():
                data[name] = value
        super().__init__(data, *args, **kwargs)

    def prefill(self, *, today: date) -> dict:
        self.is_valid()
        values = {name: value for name, value in self.cleaned_data.items() if value}
        if "space" in values:
            values["space"] = values["space"].slug
        if self.chosen is not None:
            _, start, end = self.chosen
            values[TimesMixin.EXACT_TIMES] = f"{start.isoformat()} {end.isoformat()}"
        return {"date": today, "people_count": 1, **values}


class WaitlistForm(SessionRequestForm):
    """The booking form's client and session, posted again by its "Put … on the waitlist" button
    when the slot was taken: ``add_to_waitlist``'s arguments."""

    # Any space: one no longer in use is refused by add_to_waitlist, which says so.
    space = forms.ModelChoiceField(queryset=Space.objects.all(), to_field_name="slug")

    def waitlist_arguments(self) -> dict:
        """``add_to_waitlist``'s arguments, but the actor."""
        data = self.cleaned_data
        names = ("space", "start", "end", "people_count", "client_name", "client_phone", "client_email", "notes")
        return {name: data[name] for name in names}

    def typed(self) -> dict[str, str]:
        """What was typed into the booking form and its *Repeat*, as typed: their initial values
        when the clerk tries again from it."""
        names = [*BookingForm.base_fields, *RepeatForm.base_fields, TimesMixin.EXACT_TIMES]
        return {name: self.data[name] for name in names if self.data.get(name)}


class WithdrawForm(InputRulesMixin, forms.Form):
    reason = forms.CharField(
        label="Why?",
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional: it stays in the entry's history.",
    )
