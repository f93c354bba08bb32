"""Admin for the studio's reference data (spaces, closures) and read-only views of clients,
bookings, series and waitlist entries.

Clients, bookings, series and waitlist entries change only through ``bookings.services``, whose rules, permission checks
and events the admin's plain save would skip; here managers look them up, read a booking's
history from the event store and confirm or cancel bookings in bulk through the same service
the staff pages and the API call.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from bookings import history, selectors, services
from bookings.admin_forms import ClosureAdminForm, SpaceAdminForm
from bookings.forms import CancelForm
from bookings.models import Booking, BookingSeries, BookingState, Client, Closure, Space, WaitlistEntry
from photostudio.admin import RefusalsAsMessagesMixin
from photostudio.dates import moment_text
from photostudio.errors import DomainError, NotFound


@admin.register(Space)
class SpaceAdmin(admin.ModelAdmin):
    form = SpaceAdminForm
    list_display = ["name", "slug", "capacity", "hourly_rate", "buffer_minutes", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        """Through ``bookings.services``, so every change of rates, hours, buffer or activity is audited."""
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data if name in services.SPACE_FIELDS}
            services.update_space(space=obj, actor=request.user, **changes)
            return
        fields = {name: form.cleaned_data[name] for name in services.SPACE_FIELDS if name in form.cleaned_data}
        created = services.create_space(actor=request.user, **fields)
        # The admin goes on with the form's instance (log entry, redirect): make it the saved row.
        obj.pk = created.pk
        obj._state.adding = False


@admin.register(Closure)
class ClosureAdmin(RefusalsAsMessagesMixin, admin.ModelAdmin):
    """Closures are recorded and removed through ``bookings.services``, never edited: recording one
    names the bookings already holding its time, linked, for the manager to move or cancel, and
    the waitlist entries waiting for a slot in it."""

    form = ClosureAdminForm
    list_display = ["where", "local_start", "local_end", "reason", "created_by"]
    list_display_links = ["where", "local_start"]
    list_filter = ["space", ("start", admin.DateFieldListFilter)]
    list_select_related = ["space", "created_by"]
    search_fields = ["reason", "space__name"]
    date_hierarchy = "start"
    ordering = ["-start", "-id"]
    fields = ["space", "start", "end", "reason", "created_at", "created_by"]
    readonly_fields = ["created_at", "created_by"]

    @admin.display(description="Closed", ordering="space__name")
    def where(self, closure):
        return closure.where

    @admin.display(description="From", ordering="start")
    def local_start(self, closure):
        return moment_text(closure.start)

    @admin.display(description="Until", ordering="end")
    def local_end(self, closure):
        return moment_text(closure.end)

    def save_model(self, request, obj, form, change):
        recorded = services.create_closure(
            actor=request.user,
            space=form.cleaned_data["space"],
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            reason=form.cleaned_data["reason"],
        )
        # The admin goes on with the form's instance (log entry, redirect): make it the saved row.
        obj.pk = recorded.closure.pk
        obj._state.adding = False
        affected = recorded.affected_bookings
        if affected:
            links = format_html_join(
                ", ",
                '<a href="{}">#{} {} ({})</a>',
                (
                    (reverse("booking-detail", args=[booking.pk]), booking.pk, booking.client.full_name, booking.space)
                    for booking in affected
                ),
            )
            self.message_user(
                request,
                format_html(
                    "The closure meets {} booking{} still holding the space, kept as they are: move or cancel each. {}",
                    len(affected),
                    pluralize(len(affected)),
                    links,
                ),
                messages.WARNING,
            )
        waiting = recorded.waiting_entries
        if waiting:
            links = format_html_join(
                ", ",
                '<a href="{}">#{} {} ({})</a>',
                (
                    (reverse("waitlist-entry", args=[entry.pk]), entry.pk, entry.client.full_name, entry.space)
                    for entry in waiting
                ),
            )
            self.message_user(
                request,
                format_html(
                    "{} in the closure: they stay on the waitlist, and Today no longer offers them. Tell them, "
                    "or withdraw the entry. {}",
                    "1 waiting client’s slot is" if len(waiting) == 1 else f"{len(waiting)} waiting clients’ slots are",
                    links,
                ),
                messages.WARNING,
            )

    def has_change_permission(self, request, obj=None):
        # A recorded closure is shown, not edited: its form would record another one.
        return obj is None and super().has_change_permission(request)

    def log_deletions(self, request, queryset):
        # Django logs before it deletes: delete_model and delete_queryset log what they removed,
        # leaving out a closure another manager removed meanwhile.
        return []

    def delete_model(self, request, obj):
        services.delete_closure(closure=obj, actor=request.user)
        super().log_deletions(request, [obj])

    def delete_queryset(self, request, queryset):
        for closure in queryset:
            try:
                with transaction.atomic():  # the removal and its log entry, together
                    self.delete_model(request, closure)
            except NotFound as gone:
                # Another manager removed it after this page read it: gone all the same, recorded once.
                self.message_user(request, f"{closure}: {gone.message}", messages.WARNING)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Client)
class ClientAdmin(ReadOnlyAdmin):
    list_display = ["full_name", "phone", "email", "created_at"]
    search_fields = ["full_name", "phone", "email"]
    readonly_fields = ["created_at", "created_by", "updated_at", "updated_by"]


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ["id", "local_start", "space", "client", "photographer", "people_count", "price", "state"]
    list_display_links = ["id", "local_start"]
    list_filter = ["state", "space", ("start", admin.DateFieldListFilter), "photographer"]
    list_select_related = ["space", "client", "photographer"]
    search_fields = ["=id", "client__full_name", "client__phone", "client__email", "notes"]
    date_hierarchy = "start"
    ordering = ["-start", "-id"]
    actions = ["confirm_selected", "cancel_selected"]
    fields = [
        "state",
        "client",
        "space",
        "series",
        "photographer",
        "start",
        "end",
        "blocks_until",
        "people_count",
        "price",
        "price_overridden",
        "notes",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "history",
    ]
    readonly_fields = fields

    @admin.display(description="Starts", ordering="start")
    def local_start(self, booking):
        return moment_text(booking.start)

    @admin.display(description="History (from the event log)")
    def history(self, booking):
        entries = history.describe(selectors.booking_history(booking=booking))
        if not entries:
            return "Nothing recorded."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td><strong>{}</strong></td><td>{}</td></tr>",
            (
                (
                    moment_text(entry.event.occurred_at),
                    entry.event.actor or "—",
                    entry.title,
                    entry.detail,
                )
                for entry in entries
            ),
        )
        return format_html(
            "<table><thead><tr><th>When</th><th>Who</th><th>What</th><th>Detail</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    def has_confirm_permission(self, request):
        return request.user.has_perm("bookings.confirm_booking")

    def has_cancel_permission(self, request):
        return request.user.has_perm("bookings.cancel_booking")

    @admin.action(description="Confirm the selected bookings", permissions=["confirm"])
    def confirm_selected(self, request, queryset):
        self._transition_each(request, queryset, target_state=BookingState.CONFIRMED, reason="", done="Confirmed")

    @admin.action(description="Cancel the selected bookings (asks for a reason)", permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        """First a page that asks the reason for the selected bookings, then the cancellations."""
        form = CancelForm(request.POST if "reason_given" in request.POST else None)
        if form.is_valid():
            self._transition_each(
                request,
                queryset,
                target_state=BookingState.CANCELLED,
                reason=form.cleaned_data["reason"],
                done="Cancelled",
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel bookings",
            "opts": self.model._meta,
            "bookings": queryset.select_related("space", "client"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/bookings/booking/cancel_selected.html", context)

    def _transition_each(self, request, queryset, *, target_state: str, reason: str, done: str) -> None:
        """Fire the transition on each booking through the service; report what worked and,
        booking by booking, what failed and why."""
        succeeded, failures = 0, []
        for booking in queryset.select_related("space", "client", "photographer").order_by("start", "id"):
            try:
                services.transition_booking(
                    booking=booking, target_state=target_state, actor=request.user, reason=reason
                )
            except DomainError as exc:
                failures.append(f"#{booking.pk} ({booking.client.full_name}): {exc.message}")
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, f"{done} {succeeded} booking{'s' if succeeded != 1 else ''}.", messages.SUCCESS)
        for failure in failures:
            self.message_user(request, f"Not changed: {failure}", messages.WARNING)


def _local(moment) -> str:
    return moment_text(moment)


@admin.register(BookingSeries)
class BookingSeriesAdmin(ReadOnlyAdmin):
    """A series' rule and its bookings; booked, moved and cancelled on the booking pages and the API."""

    list_display = ["id", "client", "space", "starts_on", "interval_weeks", "count", "until", "created_at"]
    list_display_links = ["id", "client"]
    list_filter = ["space"]
    list_select_related = ["client", "space"]
    search_fields = ["=id", "client__full_name", "client__phone"]
    fields = [
        "client",
        "space",
        "starts_on",
        "interval_weeks",
        "count",
        "until",
        "bookings",
        "created_at",
        "created_by",
    ]
    readonly_fields = fields

    # A series has no permissions of its own: it is its bookings.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("bookings.view_booking")

    @admin.display(description="Bookings")
    def bookings(self, series):
        bookings = series.bookings.order_by("start", "id")
        if not bookings:
            return "None left."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">#{} {}</a> · {}</li>',
                (
                    (
                        reverse("admin:bookings_booking_change", args=[b.pk]),
                        b.pk,
                        _local(b.start),
                        b.get_state_display(),
                    )
                    for b in bookings
                ),
            ),
        )


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ReadOnlyAdmin):
    """Who waits for which slot and what became of it; the waitlist pages and the API change it."""

    list_display = ["id", "local_start", "space", "client", "people_count", "status", "booking"]
    list_display_links = ["id", "local_start"]
    list_filter = ["status", "space", ("start", admin.DateFieldListFilter)]
    list_select_related = ["space", "client", "booking"]
    search_fields = ["=id", "client__full_name", "client__phone", "notes"]
    date_hierarchy = "start"
    ordering = ["-start", "-id"]
    fields = [
        "status",
        "client",
        "space",
        "start",
        "end",
        "people_count",
        "notes",
        "booking",
        "slot_opened_at",
        "resolved_at",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    ]
    readonly_fields = fields

    @admin.display(description="Starts", ordering="start")
    def local_start(self, entry):
        return _local(entry.start)
