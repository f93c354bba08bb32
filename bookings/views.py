"""The staff pages: Today, the calendar, bookings, clients and the managers' reports.

Views translate: forms check the shape, selectors read, services decide. A service's refusal is
shown on the form it concerns; outside a form, a missing or hidden object is the 404 page and a
refused permission the 403 page.
"""

from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST, require_safe

from bookings import calendar_feeds, charts, history, reports, selectors, series, services, timegrid
from bookings.filtersets import BookingFilterSet, WaitlistFilterSet
from bookings.forms import (
    BookingEditForm,
    BookingForm,
    BookingPrefillForm,
    CalendarForm,
    ClientForm,
    PricePreviewForm,
    RepeatForm,
    ReportForm,
    SearchForm,
    SeriesCancelForm,
    SeriesMoveForm,
    TransitionForm,
    WaitlistForm,
    WithdrawForm,
    active_photographers,
)
from bookings.models import Booking, BookingState, Client, WaitlistEntry, WaitlistStatus
from employees import calendar_feed
from employees import selectors as employee_selectors
from employees.models import Role
from photostudio import errors
from photostudio.dates import day_text, short_day_text
from photostudio.exports import csv_writer
from photostudio.inputs import skipped_day_error

PAGE_SIZE = 25
NEEDS_ACTION_LIMIT = 10
STARTING_SOON = timedelta(hours=1)
WAITLIST_OPENINGS_LIMIT = 10
CLIENT_MATCHES = 8
SESSION_STATES = [BookingState.PENDING, BookingState.CONFIRMED, BookingState.IN_PROGRESS, BookingState.COMPLETED]
# Buttons for the transitions, in the order the front desk reads them: forward first, cancel last.
TRANSITION_BUTTONS = {
    BookingState.CONFIRMED: ("Confirm", "primary"),
    BookingState.IN_PROGRESS: ("Start session", "primary"),
    BookingState.COMPLETED: ("Complete session", "primary"),
    BookingState.NO_SHOW: ("Mark as no-show", "secondary"),
    BookingState.CANCELLED: ("Cancel booking", "danger"),
}


def staff_page(permission: str):
    """Signed in (with the second factor where the account has one), holding ``permission``; a
    NotFound or PermissionDenied from a selector or service becomes the 404 or 403 page, which
    says why."""

    def decorate(view):
        @wraps(view)
        def translated(request, *args, **kwargs):
            if not request.user.has_perm(permission):
                raise PermissionDenied(_refusal(request.user, permission))
            try:
                return view(request, *args, **kwargs)
            except errors.NotFound as exc:
                raise Http404(exc.message) from exc
            except errors.PermissionDenied as exc:
                raise PermissionDenied(exc.message) from exc

        return login_required(translated)

    return decorate


def _refusal(employee, permission: str) -> str:
    app_label, codename = permission.split(".")
    name = (
        Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        .values_list("name", flat=True)
        .first()
    )
    role = employee.get_role_display()
    return f"It needs the permission “{name or permission}”, which your role ({role}) does not have."


def _page(request, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _open_spaces(viewer) -> list:
    """The spaces taking bookings, which the calendar and the Today timeline show."""
    return list(selectors.visible_spaces(viewer=viewer).filter(is_active=True))


# --- Today and the calendar ---------------------------------------------------------------------


@require_GET
@staff_page("bookings.view_booking")
def today_view(request):
    now = timezone.now()
    day = timezone.localdate(now, timezone.get_default_timezone())
    bookings = selectors.bookings_for_day(viewer=request.user, day=day)
    closures = selectors.closures_for_day(viewer=request.user, day=day)
    context = {
        "day": day,
        "now": now,
        "grid": timegrid.day_grid(
            day=day, spaces=_open_spaces(request.user), bookings=bookings, now=now, closures=closures
        ),
        "summary": reports.summarise_day(bookings),
        "needs": selectors.bookings_needing_action(
            viewer=request.user, now=now, soon=STARTING_SOON, limit=NEEDS_ACTION_LIMIT
        ),
        "needs_limit": NEEDS_ACTION_LIMIT,
        "cancelled": [booking for booking in bookings if booking.state == BookingState.CANCELLED],
    }
    if request.user.has_perm("bookings.view_waitlistentry"):
        context["waitlist_openings"] = selectors.waitlist_openings(
            viewer=request.user, now=now, limit=WAITLIST_OPENINGS_LIMIT
        )
        context["waitlist_limit"] = WAITLIST_OPENINGS_LIMIT
    if request.user.role == Role.PHOTOGRAPHER:
        context |= _own_sessions(request.user, day)
    return render(request, "bookings/today.html", context)


def _own_sessions(photographer, day) -> dict:
    """A photographer's sessions (not cancelled) of ``day`` and of the rest of its week."""
    start, end_of_day = selectors.day_bounds(day)
    _, end_of_week = selectors.day_bounds(day + timedelta(days=6 - day.weekday()))
    sessions = selectors.bookings_between(
        viewer=photographer, start=start, end=end_of_week, photographer=photographer, states=SESSION_STATES
    )
    return {
        "sessions_today": [booking for booking in sessions if booking.start < end_of_day],
        "sessions_this_week": [booking for booking in sessions if booking.start >= end_of_day],
    }


@require_GET
@staff_page("bookings.view_booking")
def calendar_view(request):
    now = timezone.now()
    today = timezone.localdate(now, timezone.get_default_timezone())
    day, view, chosen_space = CalendarForm(request.GET).choice(today=today)
    spaces = _open_spaces(request.user)
    # The week shows one space; so does the day on a phone, which hides the other spaces' columns.
    space = chosen_space or (spaces[0] if spaces else None)
    context = {"day": day, "view": view, "by_day": view == "week", "today": today, "spaces": spaces, "space": space}
    if view == "week":
        monday = day - timedelta(days=day.weekday())
        bookings = selectors.bookings_for_week(viewer=request.user, day=day, space=space) if space else []
        closures = selectors.closures_for_week(viewer=request.user, day=day, space=space) if space else []
        context |= {
            "monday": monday,
            "sunday": monday + timedelta(days=6),
            "previous": monday - timedelta(days=7),
            "next": monday + timedelta(days=7),
            "grid": timegrid.week_grid(monday=monday, space=space, bookings=bookings, now=now, closures=closures)
            if space
            else None,
        }
        if space and selectors.sees_whole_studio_calendar(request.user):
            context["space_feed_url"] = f"{calendar_feed.feed_url(request.user, request)}?space={space.slug}"
    else:
        bookings = selectors.bookings_for_day(viewer=request.user, day=day)
        closures = selectors.closures_for_day(viewer=request.user, day=day)
        context |= {
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "grid": timegrid.day_grid(day=day, spaces=spaces, bookings=bookings, now=now, closures=closures),
        }
    shown_days = [monday + timedelta(days=offset) for offset in range(7)] if view == "week" else [day]
    context["skipped_days"] = _skipped_day_notes(shown_days)
    context["cancelled"] = [booking for booking in bookings if booking.state == BookingState.CANCELLED]
    context["closures"] = closures
    context["can_book"] = request.user.has_perm("bookings.add_booking")
    return render(request, "bookings/calendar.html", context)


@require_GET
@staff_page("bookings.view_booking")
def day_sheet_view(request):
    """The day's sessions of each space (or of the chosen one) on a page of its own, to print on A4."""
    today = timezone.localdate(timezone.now(), timezone.get_default_timezone())
    day, _, chosen_space = CalendarForm(request.GET).choice(today=today)
    spaces = [chosen_space] if chosen_space else _open_spaces(request.user)
    bookings = selectors.bookings_for_day(viewer=request.user, day=day, space=chosen_space)
    closures = selectors.closures_for_day(viewer=request.user, day=day, space=chosen_space)
    sheets = [
        {
            "space": space,
            "hours": space.hours_on(day),
            "bookings": [b for b in bookings if b.space_id == space.pk and b.state != BookingState.CANCELLED],
            "closures": [c for c in closures if c.space_id in (None, space.pk)],
        }
        for space in spaces
    ]
    return render(
        request,
        "bookings/day_sheet.html",
        {"day": day, "sheets": sheets, "space": chosen_space, "skipped_days": _skipped_day_notes([day])},
    )


def _skipped_day_notes(days) -> list[str]:
    """What a page showing ``days`` says of each the studio's clock skips whole (its spaces are
    closed then)."""
    return [skipped.message for day in days if (skipped := skipped_day_error(day))]


# --- Bookings -----------------------------------------------------------------------------------


@require_GET
@staff_page("bookings.view_booking")
def booking_list_view(request):
    """Bookings by day, space, state, photographer or client, found by the client's name or phone
    and sorted by a column: the API's FilterSet, paginated. Without any filter it lists the
    bookings from today on."""
    data = request.GET.copy()
    if not set(data) & (set(BookingFilterSet.base_filters) - {"ordering"}):
        data["from"] = timezone.localdate(timezone.now(), timezone.get_default_timezone()).isoformat()
    filters = BookingFilterSet(data, queryset=selectors.visible_bookings(viewer=request.user))
    valid = filters.is_valid()
    context = {
        "filters": filters,
        "page": _page(request, filters.qs if valid else Booking.objects.none()),
        "states": BookingState.choices,
        "spaces": selectors.visible_spaces(viewer=request.user),
        "photographers": active_photographers(),
        "columns": _sortable_columns(request),
    }
    return render(request, "bookings/booking_list.html", context, status=200 if valid else 400)


# The Bookings list's columns: heading, the ordering key that sorts by it, and a number column?
BOOKING_COLUMNS = [
    ("When", "start", False),
    ("Space", "space", False),
    ("Client", "client", False),
    ("People", "people", True),
    ("Photographer", "photographer", False),
    ("Price", "price", True),
    ("State", "state", False),
]


def _sortable_columns(request) -> list[dict]:
    """Each column with the link that sorts by it (again: the other way round) and how it sorts now."""
    current = request.GET.get("ordering", "")
    columns = []
    for heading, key, number in BOOKING_COLUMNS:
        sorted_by = "ascending" if current == key else "descending" if current == f"-{key}" else ""
        query = request.GET.copy()
        query.pop("page", None)
        query["ordering"] = f"-{key}" if current == key else key
        columns.append({"heading": heading, "sort": sorted_by, "query": query.urlencode(), "number": number})
    return columns


# What the clerk typed into the booking form, for the form they are sent back to: in the session,
# as a query string would cut long notes (gunicorn refuses a request line over 4 kB).
_TYPED_BOOKING = "bookings.typed_booking"


@staff_page("bookings.add_booking")
def booking_create_view(request):
    today = timezone.localdate(timezone.now(), timezone.get_default_timezone())
    # A link's own query (the calendar's free slot) wins over what a refused waitlist entry left.
    typed = request.session.pop(_TYPED_BOOKING, None) if request.method == "GET" and not request.GET else None
    initial = typed or BookingPrefillForm(request.GET).prefill(today=today)
    form = BookingForm(request.POST or None, actor=request.user, initial=initial)
    repeat = RepeatForm(request.POST or None, initial=typed)
    if request.method == "POST" and form.is_valid() and repeat.is_valid():
        try:
            if repeat.repeats:
                return _book_series(request, form, repeat)
            booking = services.create_booking(actor=request.user, **form.booking_arguments())
        except errors.DomainError as exc:
            if not repeat.add_domain_error(exc):
                form.add_domain_error(exc)
        else:
            # A name other than the client's was asked about before saving; an e-mail address is only told.
            typed_email = form.cleaned_data["client_email"]
            found = selectors.booking_warnings(booking=booking, client_email=typed_email)
            warnings = [warning.message for warning in found]
            messages.success(request, " ".join([f"Booking #{booking.pk} is saved as pending.", *warnings]))
            return redirect("booking-detail", pk=booking.pk)
    status = 400 if form.errors or repeat.errors else 200
    return render(request, "bookings/booking_form.html", {"form": form, "repeat": repeat}, status=status)


def _book_series(request, form, repeat):
    booked = series.create_series(
        actor=request.user,
        **form.booking_arguments(),
        **repeat.series_arguments(),
        exact_times=form.exact_instants,
    )
    message = f"Series #{booked.series.pk}: {len(booked.bookings)} bookings are saved as pending."
    skipped_time = [refusal.day for refusal in booked.left if refusal.code == errors.SkippedTime.refusal_code]
    taken = [refusal.day for refusal in booked.left if refusal.code != errors.SkippedTime.refusal_code]
    if taken:
        message += f" Not booked, as taken: {', '.join(map(day_text, taken))}."
    if skipped_time:
        message += f" Not booked, as the clocks skip that time that night: {', '.join(map(day_text, skipped_time))}."
    messages.success(request, message)
    return redirect("booking-detail", pk=booked.bookings[0].pk)


@require_GET
@staff_page("bookings.add_booking")
def price_preview_view(request):
    """The price a booking of the typed space and times would get, as a fragment of the form; why
    there is none when a typed time does not exist on the studio's clock that day."""
    form = PricePreviewForm(request.GET)
    context = {}
    if form.is_valid() and form.cleaned_data["end"] > form.cleaned_data["start"]:
        space, duration = form.cleaned_data["space"], form.cleaned_data["end"] - form.cleaned_data["start"]
        hours, minutes = divmod(int(duration.total_seconds()) // 60, 60)
        context = {
            "space": space,
            "duration": f"{hours} h {minutes} min" if minutes else f"{hours} h",
            "price": space.price_for(duration),
        }
    elif skipped := [name for name in ("start_time", "end_time") if form.has_error(name, "skipped_time")]:
        context = {"skipped_time": form.errors[skipped[0]][0]}
    return render(request, "bookings/partials/price_preview.html", context)


@require_GET
@staff_page("bookings.view_booking")
def booking_detail_view(request, pk: int):
    booking = selectors.get_booking(viewer=request.user, pk=pk)
    return _detail(request, booking)


def _detail(request, booking, failed_form=None, status=200, failed_series_form=None):
    """The booking page; ``failed_form`` is a refused state change, ``failed_series_form`` a
    refused cancellation or move of its series, shown open with its errors."""
    allowed = services.transitions_allowed(booking=booking, actor=request.user)
    targets = {move.target for move in allowed if not move.custom.get("undo")}
    undo = next((move for move in allowed if move.custom.get("undo")), None)
    failed_target = failed_form["target_state"].value() if failed_form is not None else None
    zone = timezone.get_default_timezone()
    context = {
        "booking": booking,
        "history": history.describe(selectors.booking_history(booking=booking)),
        "notifications": selectors.notifications_for(booking=booking),
        "photographer_clash": selectors.photographer_clash(booking),
        "transitions": [
            {"target": target, "label": label, "style": style}
            for target, (label, style) in TRANSITION_BUTTONS.items()
            if target in targets and target != BookingState.CANCELLED
        ],
        "not_yet": [
            {"label": TRANSITION_BUTTONS[move.target][0], "from": timezone.localtime(moment, zone)}
            for move, moment in services.transitions_not_yet_allowed(booking=booking, actor=request.user)
        ],
        "can_cancel": BookingState.CANCELLED in targets,
        "cancel_form": failed_form
        if failed_target == BookingState.CANCELLED
        else TransitionForm(initial={"target_state": BookingState.CANCELLED}),
        "undo": undo and {"target": BookingState(undo.target).label, "from": booking.get_state_display()},
        "undo_form": failed_form
        if undo is not None and failed_target == undo.target
        else TransitionForm(initial={"target_state": undo.target if undo else ""}),
        "can_edit": request.user.has_perm("bookings.change_booking"),
        "no_action_reason": "" if allowed else services.why_no_transition(booking=booking, actor=request.user),
    }
    if booking.series_id is not None:
        series_forms = {
            form_class: form_class.for_booking(booking) for form_class in (SeriesCancelForm, SeriesMoveForm)
        }
        if failed_series_form is not None:
            series_forms[type(failed_series_form)] = failed_series_form
        context |= {
            "series": selectors.get_series(viewer=request.user, pk=booking.series_id),
            "series_cancel_form": series_forms[SeriesCancelForm],
            "series_move_form": series_forms[SeriesMoveForm],
            "can_cancel_series": request.user.has_perm("bookings.cancel_booking"),
            "can_move_series": request.user.has_perm("bookings.change_booking"),
        }
    return render(request, "bookings/booking_detail.html", context, status=status)


@require_POST
@staff_page("bookings.cancel_booking")
def series_cancel_view(request, pk: int):
    """Cancel a series' dates from one of its bookings' page."""

    def cancel(found, form, booking):
        change = series.cancel_series(series=found, actor=request.user, **form.cancel_arguments())
        message = f"Series #{found.pk}: {len(change.bookings)} bookings are cancelled."
        if change.left:
            message += f" {len(change.left)} begun, over or no longer pending or confirmed stay as they are."
        return message

    return _series_action(request, pk, SeriesCancelForm, cancel)


@require_POST
@staff_page("bookings.change_booking")
def series_move_view(request, pk: int):
    """Move a series' dates from one of its bookings' page."""

    def move(found, form, booking):
        change = series.move_series(series=found, actor=request.user, **form.move_arguments(booking))
        message = f"Series #{found.pk}: {len(change.bookings)} bookings are moved."
        if change.left:
            message += f" {len(change.left)} cancelled, running or over stay as they are."
        return message

    return _series_action(request, pk, SeriesMoveForm, move)


def _series_action(request, pk: int, form_class, act):
    """Run ``act(series, form, booking)`` for a valid ``form_class`` posted from the page of one of the
    series' bookings and go back there with its message; a refusal shows that page with the form open."""
    found = selectors.get_series(viewer=request.user, pk=pk)
    form = form_class(request.POST)
    valid = form.is_valid()
    ids = [booking.pk for booking in found.bookings.all()]
    if not ids:  # every booking of it deleted: no page of one to act from
        raise Http404(f"Booking series #{found.pk} has no bookings left.")
    shown = form.cleaned_data.get("booking")
    booking = selectors.get_booking(viewer=request.user, pk=shown if shown in ids else ids[0])
    if valid:
        try:
            message = act(found, form, booking)
        except errors.DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, message)
            return redirect("booking-detail", pk=booking.pk)
    return _detail(request, booking, status=400, failed_series_form=form)


@require_POST
@staff_page("bookings.view_booking")
def booking_transition_view(request, pk: int):
    booking = selectors.get_booking(viewer=request.user, pk=pk)
    form = TransitionForm(request.POST)
    if form.is_valid():
        source = booking.get_state_display().lower()
        move = booking.transition_to(form.cleaned_data["target_state"])
        undoing = move is not None and move.custom.get("undo")
        try:
            services.transition_booking(
                booking=booking,
                target_state=form.cleaned_data["target_state"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except errors.DomainError as exc:
            form.add_domain_error(exc)
        else:
            state = booking.get_state_display().lower()
            if undoing:
                messages.success(request, f"Undone: booking #{booking.pk} is {state} again (it was {source}).")
            else:
                messages.success(request, f"Booking #{booking.pk} is now {state}.")
            return redirect("booking-detail", pk=booking.pk)
    if "reason" in form.errors:
        return _detail(request, selectors.get_booking(viewer=request.user, pk=pk), form, status=400)
    messages.error(request, " ".join(message for field_errors in form.errors.values() for message in field_errors))
    return redirect("booking-detail", pk=booking.pk)


@staff_page("bookings.change_booking")
def booking_edit_view(request, pk: int):
    booking = selectors.get_booking(viewer=request.user, pk=pk)
    form = BookingEditForm(request.POST or None, booking=booking, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            booking = services.amend_booking(
                booking=booking,
                actor=request.user,
                move=form.move_arguments(),
                changes=form.detail_changes(),
                expected_revisions=form.expected_revisions(),
            )
        except errors.BookingChanged:
            form = form.rebased(selectors.get_booking(viewer=request.user, pk=pk))
        except errors.DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, f"Booking #{booking.pk} is saved.")
            return redirect("booking-detail", pk=booking.pk)
    if form.errors:
        # A refused change may have moved the booking in memory before the rollback.
        booking = selectors.get_booking(viewer=request.user, pk=pk)
    status = 400 if form.errors else 200
    return render(request, "bookings/booking_edit.html", {"form": form, "booking": booking}, status=status)


# --- Clients ------------------------------------------------------------------------------------


@require_GET
@staff_page("bookings.view_client")
def client_list_view(request):
    """Clients by name, or those matching ``q``; a search that cannot be run lists nobody and says why."""
    search = SearchForm(request.GET)
    valid = search.is_valid()
    query = search.cleaned_data["q"] if valid else ""
    clients = selectors.clients_matching(viewer=request.user, query=query) if valid else Client.objects.none()
    context = {"search": search, "query": query, "page": _page(request, clients)}
    return render(request, "bookings/client_list.html", context, status=200 if valid else 400)


@require_GET
@staff_page("bookings.view_client")
def client_search_view(request):
    """Clients matching what is typed in the booking form, as a fragment under its client fields."""
    query = request.GET.get("client_phone") or request.GET.get("client_name") or request.GET.get("q") or ""
    if not request.htmx:
        return redirect(f"{reverse('client-list')}?{urlencode({'q': query})}")
    search = SearchForm({"q": query})
    clients = []
    if search.is_valid() and len(search.cleaned_data["q"].strip()) >= 2:
        clients = list(selectors.clients_matching(viewer=request.user, query=search.cleaned_data["q"])[:CLIENT_MATCHES])
    return render(request, "bookings/partials/client_matches.html", {"clients": clients, "query": query})


@require_GET
@staff_page("bookings.view_client")
def client_detail_view(request, pk: int):
    client = selectors.get_client(viewer=request.user, pk=pk)
    client_history = selectors.client_history(viewer=request.user, client=client)
    context = {"client": client, "history": client_history, "page": _page(request, client_history.bookings)}
    return render(request, "bookings/client_detail.html", context)


@staff_page("bookings.change_client")
def client_edit_view(request, pk: int):
    client = selectors.get_client(viewer=request.user, pk=pk)
    initial = {field: getattr(client, field) for field in services.CLIENT_FIELDS}
    form = ClientForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            client = services.update_client(client=client, actor=request.user, **changes)
        except errors.DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, f"{client.full_name} is saved.")
            return redirect("client-detail", pk=client.pk)
    status = 400 if form.errors else 200
    return render(request, "bookings/client_form.html", {"form": form, "client": client}, status=status)


# --- Reports ------------------------------------------------------------------------------------


def _report_period(request):
    """The bound period form, or an unbound one with the last 30 days; and the period if it is valid."""
    if "start" in request.GET or "end" in request.GET:
        form = ReportForm(request.GET)
    else:
        form = ReportForm(ReportForm.default_period(_studio_today()))
    return form, (form.cleaned_data["start"], form.cleaned_data["end"]) if form.is_valid() else None


def _studio_today():
    return timezone.localdate(timezone.now(), timezone.get_default_timezone())


@require_GET
@staff_page("bookings.view_reports")
def reports_view(request):
    form, period = _report_period(request)
    context = {
        "form": form,
        "presets": reports.period_presets(_studio_today()),
        "bookings_definition": reports.BOOKINGS_DEFINITION,
        "currency": settings.STUDIO_CURRENCY,
    }
    if period is not None:
        report = reports.studio_report(viewer=request.user, start=period[0], end=period[1])
        names = [figures.space.name for figures in report.spaces]
        context |= {
            "report": report,
            "utilisation_chart": charts.bar_chart(
                title="Utilisation per space",
                categories=names,
                series=[("Booked share of open hours", [figures.utilisation for figures in report.spaces])],
            ),
            "rates_chart": charts.bar_chart(
                title="No-show and cancellation rates per space",
                categories=names,
                series=[
                    ("No-show rate", [figures.no_show_rate for figures in report.spaces]),
                    ("Cancellation rate", [figures.cancellation_rate for figures in report.spaces]),
                ],
            ),
            "revenue_chart": charts.column_chart(
                title=f"Revenue per day ({report.currency})",
                categories=[short_day_text(day.day) for day in report.days],
                values=[day.revenue for day in report.days],
                label_every=max(1, len(report.days) // 8),
            ),
        }
    return render(request, "bookings/reports.html", context, status=200 if period else 400)


@require_GET
@staff_page("bookings.view_reports")
def reports_csv_view(request):
    """The per-space table, or with ``table=days`` the per-day one: the same columns, the same
    definition of bookings, the currency in the revenue column's header."""
    form, period = _report_period(request)
    if period is None:
        return render(request, "bookings/reports.html", {"form": form}, status=400)
    report = reports.studio_report(viewer=request.user, start=period[0], end=period[1])
    per_day = request.GET.get("table") == "days"
    name = f"studio-{'days' if per_day else 'spaces'}-{report.start}-{report.end}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv_writer(response)
    writer.writerow(
        [
            "day" if per_day else "space",
            "open_hours",
            "booked_hours",
            "utilisation_percent",
            "bookings",
            "completed",
            "cancelled",
            "no_shows",
            "no_show_rate_percent",
            "cancellation_rate_percent",
            f"revenue_{report.currency}",
        ]
    )
    rows = (
        [(day.day.isoformat(), day) for day in report.days]
        if per_day
        else [
            (figures.space.name if figures.space else "All spaces", figures)
            for figures in [*report.spaces, report.total]
        ]
    )
    for label, figures in rows:
        writer.writerow(
            [
                label,
                figures.open_hours,
                figures.booked_hours,
                _blank(figures.utilisation),
                figures.bookings,
                figures.completed,
                figures.cancelled,
                figures.no_shows,
                _blank(figures.no_show_rate),
                _blank(figures.cancellation_rate),
                figures.revenue,
            ]
        )
    return response


def _blank(value):
    return "" if value is None else value


# --- Calendar feeds ------------------------------------------------------------------------------


@require_safe
def calendar_feed_view(request, token: str):
    """An employee's calendar feed, opened by the secret token in its URL alone: calendar apps sign
    in nowhere. ``?space=<slug>`` narrows it to one space. A token that is unknown, replaced, or an
    inactive employee's answers 404, as does an unknown space. The request log shows no token."""
    request.logged_path = reverse("calendar-feed", kwargs={"token": "token"})
    subscriber = employee_selectors.calendar_feed_owner(token)
    if subscriber is None:
        raise Http404("There is no such calendar feed.")
    space = None
    if "space" in request.GET:
        try:
            space = selectors.get_space(viewer=subscriber, slug=request.GET["space"])
        except errors.NotFound as exc:
            raise Http404(exc.message) from exc
    bookings = selectors.calendar_feed_bookings(subscriber=subscriber, now=timezone.now(), space=space)
    body = calendar_feeds.feed(
        subscriber=subscriber,
        space=space,
        whole_studio=selectors.sees_whole_studio_calendar(subscriber),
        bookings=bookings,
        request=request,
    )
    response = HttpResponse(body, content_type=calendar_feeds.CONTENT_TYPE)
    # Clients' names and phones behind a URL that its owner may revoke at any moment: no copy is
    # kept by a proxy or a browser cache, which would go on answering for the old URL.
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="sessions.ics"'
    return response


# --- Waitlist -----------------------------------------------------------------------------------


@require_GET
@staff_page("bookings.view_waitlistentry")
def waitlist_view(request):
    """The waitlist, waiting clients first unless another status is asked for, in start order."""
    data = request.GET.copy()
    data.setdefault("status", WaitlistStatus.WAITING)
    filters = WaitlistFilterSet(data, queryset=selectors.visible_waitlist(viewer=request.user))
    valid = filters.is_valid()
    context = {
        "filters": filters,
        "page": _page(request, filters.qs if valid else WaitlistEntry.objects.none()),
        "statuses": WaitlistStatus.choices,
        "spaces": selectors.visible_spaces(viewer=request.user),
    }
    return render(request, "bookings/waitlist.html", context, status=200 if valid else 400)


@require_GET
@staff_page("bookings.view_waitlistentry")
def waitlist_entry_view(request, pk: int):
    entry = selectors.get_waitlist_entry(viewer=request.user, pk=pk)
    return _waitlist_entry(request, entry, WithdrawForm())


def _waitlist_entry(request, entry, withdraw_form, status=200):
    context = {
        "entry": entry,
        "history": history.describe(selectors.waitlist_history(entry=entry)),
        "withdraw_form": withdraw_form,
        "waiting": entry.status == WaitlistStatus.WAITING,
    }
    return render(request, "bookings/waitlist_entry.html", context, status=status)


@require_POST
@staff_page("bookings.add_waitlistentry")
def waitlist_add_view(request):
    """The booking form's "Put … on the waitlist" button: the same data, to ``add_to_waitlist``."""
    form = WaitlistForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The waitlist entry was not saved: check the booking's details and try again.")
        return _back_to_the_booking_form(request, form)
    try:
        entry = services.add_to_waitlist(actor=request.user, **form.waitlist_arguments())
    except errors.DomainError as exc:
        messages.error(request, exc.message)
        return _back_to_the_booking_form(request, form)
    messages.success(
        request,
        f"{entry.client.full_name} is on the waitlist for {entry.space.name}. Today shows them with a "
        "Book button as soon as the slot is free.",
    )
    return redirect("waitlist-entry", pk=entry.pk)


def _back_to_the_booking_form(request, form: WaitlistForm):
    request.session[_TYPED_BOOKING] = form.typed()
    return redirect("booking-new")


@require_POST
@staff_page("bookings.change_waitlistentry")
def waitlist_book_view(request, pk: int):
    entry = selectors.get_waitlist_entry(viewer=request.user, pk=pk)
    try:
        entry = services.book_waitlist_entry(entry=entry, actor=request.user)
    except errors.DomainError as exc:
        messages.error(request, exc.message)
        return redirect("waitlist-entry", pk=pk)
    messages.success(
        request, f"Booking #{entry.booking_id} is saved as pending: {entry.client.full_name} came off the waitlist."
    )
    return redirect("booking-detail", pk=entry.booking_id)


@require_POST
@staff_page("bookings.change_waitlistentry")
def waitlist_withdraw_view(request, pk: int):
    entry = selectors.get_waitlist_entry(viewer=request.user, pk=pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _waitlist_entry(request, entry, form, status=400)
    try:
        services.withdraw_waitlist_entry(entry=entry, actor=request.user, reason=form.cleaned_data["reason"])
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{entry.client.full_name} is off the waitlist.")
    return redirect("waitlist-entry", pk=pk)
