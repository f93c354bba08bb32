"""The bookings, spaces and clients endpoints. Views translate HTTP to the services and selectors
of ``bookings`` and back; the rules live there."""

import re
from contextlib import contextmanager
from datetime import date

from django.db import DatabaseError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings import day_lists, reports, selectors, series, services
from bookings.api.serializers import (
    BookingConflictSerializer,
    BookingCreateSerializer,
    BookingDetailSerializer,
    BookingSerializer,
    BookingsHealthSerializer,
    BookingUpdateSerializer,
    BookingWithWarningsSerializer,
    ClientHistorySerializer,
    ClientSerializer,
    ClientUpdateSerializer,
    ClosureCreatedSerializer,
    ClosureCreateSerializer,
    ClosureSerializer,
    DayQuerySerializer,
    FreeSlotsSerializer,
    HistoryEntrySerializer,
    ReportQuerySerializer,
    ReportSerializer,
    RescheduleSerializer,
    SearchQuerySerializer,
    SeriesCancelledSerializer,
    SeriesCancelSerializer,
    SeriesCreatedSerializer,
    SeriesCreateSerializer,
    SeriesMovedSerializer,
    SeriesMoveSerializer,
    SeriesSerializer,
    SpaceSerializer,
    StateChangeSerializer,
    WaitlistEntryCreateSerializer,
    WaitlistEntryDetailSerializer,
    WaitlistEntrySerializer,
    WithdrawSerializer,
    report_json,
)
from bookings.filtersets import BookingFilterSet, ClosureFilterSet, WaitlistFilterSet
from photostudio.api import error_body
from photostudio.errors import ValidationFailed
from photostudio.idempotency import HEADER as IDEMPOTENCY_HEADER
from photostudio.idempotency import REPLAYED_HEADER, idempotent
from photostudio.openapi import conflict, error_response

# The guide's example booking, used in the schema's examples.
GUIDE_BOOKING = {
    "client_name": "John Doe",
    "client_phone": "+1234567890",
    "start_time": "2024-01-15T10:00:00Z",
    "end_time": "2024-01-15T12:00:00Z",
    "space_type": "studio_a",
    "people_count": 2,
}
GUIDE_BOOKING_ANSWER = {
    "id": 1,
    "state": "pending",
    "allowed_transitions": [
        {"target_state": "cancelled", "transition": "cancel", "reason_required": True, "undo": False},
        {"target_state": "confirmed", "transition": "confirm", "reason_required": False, "undo": False},
    ],
    "start_time": "2024-01-15T10:00:00Z",
    "end_time": "2024-01-15T12:00:00Z",
    "blocks_until": "2024-01-15T12:15:00Z",
    "duration_minutes": 120,
    "space_type": "studio_a",
    "space": {"slug": "studio_a", "name": "Studio A"},
    "client": {"id": 1, "full_name": "John Doe", "phone": "+1234567890", "email": ""},
    "people_count": 2,
    "photographer": None,
    "price": "160.00",
    "currency": "USD",
    "price_overridden": False,
    "notes": "",
    "series": None,
    "created_at": "2024-01-10T09:30:00Z",
    "updated_at": "2024-01-10T09:30:00Z",
    "warnings": [
        {
            "code": "client_not_notified",
            "message": "John Doe has no e-mail address: they will not be notified of this booking.",
            "details": {"client_id": 1},
        }
    ],
}
# The guide's booking refused: Studio A is taken from 10:00 to 12:00 (and cleaned until 12:15).
GUIDE_OVERLAP_DETAILS = {
    "conflicting_booking": {
        "id": 1,
        "start": "2024-01-15T10:00:00+00:00",
        "end": "2024-01-15T12:00:00+00:00",
        "blocks_until": "2024-01-15T12:15:00+00:00",
    },
    "alternatives": {
        "same_space": [
            {"start": "2024-01-15T12:15:00+00:00", "end": "2024-01-15T14:15:00+00:00"},
            {"start": "2024-01-15T12:30:00+00:00", "end": "2024-01-15T14:30:00+00:00"},
            {"start": "2024-01-15T12:45:00+00:00", "end": "2024-01-15T14:45:00+00:00"},
        ],
        "other_spaces": [
            {
                "space": "studio_b",
                "space_name": "Studio B",
                "start": "2024-01-15T10:00:00+00:00",
                "end": "2024-01-15T12:00:00+00:00",
            }
        ],
    },
}
# The names the API's fields have where the services speak of the model's.
_API_FIELD_NAMES = {"start": "start_time", "end": "end_time", "space": "space_type"}
_CLOSURE_FIELD_NAMES = {"start": "start_time", "end": "end_time"}
_BOOKING_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The booking's id.")
_SERIES_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The series' id.")
_CLIENT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The client's id.")
_WAITLIST_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The entry's id.")
_SPACE_SLUG = OpenApiParameter(
    "slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The space's slug, e.g. studio_a."
)


@contextmanager
def _in_api_terms(names: dict[str, str] = _API_FIELD_NAMES):
    """Renames the fields a service's ValidationFailed names to the API's (``start`` → ``start_time``)."""
    try:
        yield
    except ValidationFailed as exc:
        exc.details = {names.get(field, field): messages for field, messages in exc.details.items()}
        raise


def _booking(booking, request, **kwargs) -> Response:
    return Response(
        BookingSerializer(booking, context={"viewer": request.user}).data, headers=_entity_tag_header(booking), **kwargs
    )


def _changed_booking(booking, request) -> Response:
    """A booking just changed, with a warning when its photographer is on another session then."""
    context = {"viewer": request.user, "warnings": selectors.photographer_warnings(booking)}
    return Response(BookingWithWarningsSerializer(booking, context=context).data, headers=_entity_tag_header(booking))


IF_MATCH_HEADER = "If-Match"
# RFC 9110 §8.8.3 and §5.6.1: a list of entity tags, each strong ("…") or weak (W/"…"), separated
# by commas with optional spaces and tabs, empty elements allowed.
_OPAQUE_TAG = r'"[\x21\x23-\x7e\x80-\xff]*"'
_LISTED_TAG = re.compile(rf"(W/)?({_OPAQUE_TAG})")
_ENTITY_TAG_LIST = re.compile(rf"[ \t,]*(?:W/)?{_OPAQUE_TAG}(?:[ \t]*,[ \t,]*(?:W/)?{_OPAQUE_TAG})*[ \t,]*")
# Room for a list of twenty of a booking's longest tags, while a made-up value costs a bounded scan.
_IF_MATCH_MAX_LENGTH = 1024
_IF_MATCH_MESSAGE = (
    'Send the ETag this booking was answered with, "{pk}-<revision>" in quotes, a comma-separated list of '
    "ETags, or * for any version (at most {limit} characters)."
)


def _entity_tag_header(booking) -> dict[str, str]:
    # The booking's id and its revision, which every change counts up: a tag of one booking never
    # matches another's, nor another version of it.
    return {"ETag": f'"{booking.pk}-{booking.revision}"'}


def _expected_revisions(request, booking) -> set[int] | None:
    """The revisions of ``booking`` whose ETag ``If-Match`` lists, which the service compares with
    the stored one under the booking's row lock; None without the header or with ``*``.

    Tags are compared strongly (RFC 9110 §8.8.3.2): a weak tag, another booking's or one of any
    other shape matches no revision, so a list of only those leaves the change nothing to be made
    on (412). A value that is no list of entity tags, or longer than ``_IF_MATCH_MAX_LENGTH``, is
    refused with ValidationFailed.
    """
    header = request.headers.get(IF_MATCH_HEADER)
    if header is None or header.strip() == "*":
        return None
    if len(header) > _IF_MATCH_MAX_LENGTH or _ENTITY_TAG_LIST.fullmatch(header) is None:
        message = _IF_MATCH_MESSAGE.format(pk=booking.pk, limit=_IF_MATCH_MAX_LENGTH)
        raise ValidationFailed(message, details={IF_MATCH_HEADER: [message]})
    own_tag = re.compile(rf'"{booking.pk}-(0|[1-9][0-9]{{0,18}})"')
    return {
        int(own.group(1))
        for weak, tag in _LISTED_TAG.findall(header)
        if not weak and (own := own_tag.fullmatch(tag)) is not None
    }


_IF_MATCH = OpenApiParameter(
    IF_MATCH_HEADER,
    {
        "type": "string",
        "maxLength": _IF_MATCH_MAX_LENGTH,
        "pattern": rf"^(\*|{_ENTITY_TAG_LIST.pattern})$",
    },
    OpenApiParameter.HEADER,
    description="The booking's `ETag` as last read, to change it only if nobody has since: otherwise 412 "
    "`booking_changed` and nothing changes. A comma-separated list of ETags changes it if any of them is "
    'its current `ETag`; tags are compared strongly, so a weak `W/"…"` tag or another booking\'s never '
    "matches. `*`, or no header, changes whatever version is stored. Anything else is refused with 400 "
    "`validation_failed`.",
)
_ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200],
    description="This version of the booking (its id and revision): send it back as `If-Match` to change it.",
)
_CREATED_ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[201],
    description="The new booking's first version: send it back as `If-Match` to change it. Not on a replayed "
    "answer, which may be older than the booking now.",
)
_BOOKING_CHANGED = error_response(
    "`booking_changed`: someone changed the booking since the `If-Match` ETag was read; nothing was changed. "
    "Read it again (`details.revision` is the revision now) and redo the change on what it says now.",
    OpenApiExample(
        "booking_changed",
        value=error_body(
            "booking_changed",
            "Booking #1 was changed by someone else since you read it (revision 2, now 3): ...",
            {"expected_revision": 2, "revision": 3},
        ),
    ),
)


_RETRY_AS_FOR_A_BOOKING = (
    "As for `POST /api/v1/bookings/`: a retry with the same key and body answers the first response again."
)
_KEY_REUSED = error_response("The `Idempotency-Key` was already used for a different request.")


def _idempotent_create_headers(key_description: str, *, created: str) -> list[OpenApiParameter]:
    """The headers of a create that takes an ``Idempotency-Key``: the key, the replay mark and the
    new resource's Location."""
    return [
        OpenApiParameter(
            IDEMPOTENCY_HEADER,
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description=key_description,
            pattern=r"^[\x21-\x7e]{1,255}$",
        ),
        OpenApiParameter(
            REPLAYED_HEADER,
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            response=[201],
            description="`true` when this is the stored answer to an earlier request with the same key.",
            enum=["true"],
        ),
        OpenApiParameter("Location", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[201], description=created),
    ]


class BookingListView(generics.ListAPIView):
    filterset_class = BookingFilterSet
    serializer_class = BookingSerializer

    def get_queryset(self):
        return selectors.visible_bookings(viewer=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "viewer": self.request.user}

    def initial(self, request, *args, **kwargs):
        self.day_list_day = day_lists.day_list_day(request.query_params)
        if self.day_list_day is not None:
            day_lists.announce(self.day_list_day)
        super().initial(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        day = self.day_list_day
        if day is None or not request.user.has_perm("bookings.view_booking"):
            return super().list(request, *args, **kwargs)
        day_list = day_lists.day_list(
            day=day, params=request.query_params, load=lambda: self.filter_queryset(self.get_queryset())
        )
        if request.accepted_media_type != JSONRenderer.media_type:  # e.g. "application/json; indent=4"
            page = self.paginate_queryset(day_list)
            serializer = self.get_serializer()
            return self.get_paginated_response([serializer.for_viewer(booking, part) for booking, part in page])
        body = day_list.page_for(
            request.user,
            address=request.build_absolute_uri(),
            render=lambda answers: self.paginator.paginated_json(self.paginate_queryset(answers)),
        )
        return HttpResponse(body, content_type=JSONRenderer.media_type)

    @extend_schema(
        operation_id="bookings_list",
        summary="List bookings",
        description="Bookings in start order, narrowed by the filters. `?date=2024-01-15` is a day of the "
        "studio's local calendar; `from`/`to` a range of such days (both included).",
        parameters=[
            OpenApiParameter(
                "date",
                OpenApiTypes.DATE,
                description="Bookings on this day of the studio's calendar (YYYY-MM-DD).",
                examples=[OpenApiExample("The guide's day", value="2024-01-15")],
            )
        ],
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        operation_id="bookings_create",
        summary="Book a space",
        description="A new booking, pending until confirmed. The client is found by phone number, or "
        "registered with `client_name` when the number is new. The price is the space's hourly rate "
        "for the duration. A start in the past is allowed (imports). A booking whose time, clean-up buffer "
        "included, meets a closure of its space or of the whole studio is refused with 409 `space_closed`, "
        "`details.closure` naming it. `warnings` says what the caller "
        "should know: `client_name_mismatch` when the phone number's client has another name than "
        "`client_name` (the booking is theirs), `client_email_mismatch` when it has another e-mail address than "
        "`client_email` (the client is not changed), `client_not_notified` when the client has no e-mail "
        "address. Send an `Idempotency-Key` to retry safely. A space already held at that time (buffer "
        "included) answers 409 `booking_overlap` naming the booking in the way and offering `alternatives`: "
        "the nearest free starts of the same length in that space on the same day, and other spaces free at "
        "the asked time that hold the people count.",
        request=BookingCreateSerializer,
        parameters=_idempotent_create_headers(
            "Any unique string (1-255 visible ASCII characters, e.g. a UUID). A retry with the same key and "
            "body answers the first response again instead of booking twice; the same key with another body "
            "answers 422 `idempotency_key_reused`. Kept for 24 hours.",
            created="The new booking.",
        )
        + [_CREATED_ETAG],
        responses={
            201: OpenApiResponse(
                BookingWithWarningsSerializer,
                description="Booked. A replayed answer carries `Idempotent-Replayed: true`.",
                examples=[OpenApiExample("The guide's booking", value=GUIDE_BOOKING_ANSWER)],
            ),
            409: conflict(
                "space_closed",
                "booking_overlap",
                body=BookingConflictSerializer,
                details={"booking_overlap": GUIDE_OVERLAP_DETAILS},
            ),
            422: _KEY_REUSED,
        },
        examples=[OpenApiExample("The guide's booking", value=GUIDE_BOOKING, request_only=True)],
    )
    @idempotent
    def post(self, request):
        data = BookingCreateSerializer.check(request.data)
        with _in_api_terms():
            booking = services.create_booking(
                actor=request.user,
                space=data["space_type"],
                start=data["start_time"],
                end=data["end_time"],
                people_count=data["people_count"],
                client_name=data["client_name"],
                client_phone=data["client_phone"],
                client_email=data["client_email"],
                notes=data["notes"],
                price=data.get("price"),
            )
        warnings = selectors.booking_warnings(
            booking=booking, client_name=data["client_name"], client_email=data["client_email"]
        )
        context = {"viewer": request.user, "warnings": warnings}
        return Response(
            BookingWithWarningsSerializer(booking, context=context).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/bookings/{booking.pk}", **_entity_tag_header(booking)},
        )


class BookingDetailView(APIView):
    @extend_schema(
        operation_id="bookings_retrieve",
        summary="One booking",
        description="The booking with the notifications about it: each e-mail to the client or the "
        "photographer, whether it was sent, and why not.",
        parameters=[_BOOKING_ID, _ETAG],
        responses=BookingDetailSerializer,
    )
    def get(self, request, pk: int):
        booking = selectors.get_booking(viewer=request.user, pk=pk)
        context = {"viewer": request.user, "notifications": selectors.notifications_for(booking=booking)}
        return Response(BookingDetailSerializer(booking, context=context).data, headers=_entity_tag_header(booking))

    @extend_schema(
        operation_id="bookings_partial_update",
        summary="Change notes, people, photographer or price",
        description="Change the fields sent, leave the rest. Notes may change in any state, the rest only "
        "while the booking holds its space. `price` needs the right to set prices by hand (managers); "
        "`null` returns to the space's rate. Times and space change through `/reschedule`, the state "
        "through `/state`. Send `If-Match` with the booking's `ETag` to change it only if nobody has since.",
        parameters=[_BOOKING_ID, _IF_MATCH, _ETAG],
        request=BookingUpdateSerializer,
        responses={
            200: BookingWithWarningsSerializer,
            409: conflict("booking_closed", "concurrent_change"),
            412: _BOOKING_CHANGED,
        },
        examples=[OpenApiExample("More people", value={"people_count": 4, "notes": "Bringing a dog."})],
    )
    def patch(self, request, pk: int):
        booking = selectors.get_booking(viewer=request.user, pk=pk)
        changes = BookingUpdateSerializer.check(request.data)
        expected_revisions = _expected_revisions(request, booking)
        booking = services.update_booking(
            booking=booking, actor=request.user, expected_revisions=expected_revisions, **changes
        )
        return _changed_booking(booking, request)


class BookingStateView(APIView):
    @extend_schema(
        operation_id="bookings_state",
        summary="Move a booking to another state",
        description="`pending → confirmed → in_progress → completed`; `pending | confirmed → cancelled` "
        "(give a `reason`); `confirmed → no_show` once the start time has passed. A session begins "
        "no earlier than `BOOKING_EARLY_START_MINUTES` before its start and completes no earlier than "
        "its start: before that 409 `too_early` with `details.not_before`. The last state change "
        "can be undone by sending the previous state (listed with `undo: true`, a `reason` required): "
        "by managers at any time, by whoever made the change within `BOOKING_UNDO_MINUTES`; undoing "
        "into a state that holds the space needs it free (409 `booking_overlap`) and, back to pending "
        "or confirmed, not closed (409 `space_closed`). The booking's "
        "`allowed_transitions` lists what the caller may do. Send `If-Match` with the booking's `ETag` to "
        "change it only if nobody has since.",
        parameters=[_BOOKING_ID, _IF_MATCH, _ETAG],
        request=StateChangeSerializer,
        responses={
            200: BookingSerializer,
            409: conflict("invalid_transition", "too_early", "space_closed", "booking_overlap", "concurrent_change"),
            412: _BOOKING_CHANGED,
        },
        examples=[
            OpenApiExample(
                "The guide's confirmation",
                value={"target_state": "confirmed", "reason": "Client confirmed via phone"},
                request_only=True,
            ),
            OpenApiExample(
                "Undo a cancellation",
                value={"target_state": "confirmed", "reason": "Cancelled the wrong booking"},
                request_only=True,
            ),
        ],
    )
    def post(self, request, pk: int):
        booking = selectors.get_booking(viewer=request.user, pk=pk)
        data = StateChangeSerializer.check(request.data)
        expected_revisions = _expected_revisions(request, booking)
        booking = services.transition_booking(
            booking=booking, actor=request.user, expected_revisions=expected_revisions, **data
        )
        return _booking(booking, request)


class BookingRescheduleView(APIView):
    @extend_schema(
        operation_id="bookings_reschedule",
        summary="Move a booking to other times or another space",
        description="For pending and confirmed bookings, under the same rules as a new booking (409 "
        "`space_closed` when it would touch a closure). A price set by hand is kept; otherwise it follows "
        "the new duration and space. A space already held at the new time answers 409 `booking_overlap` "
        "with `alternatives`, as for a new booking (the booking's own time counts as free). Send `If-Match` "
        "with the booking's `ETag` to move it only if nobody has changed it since. A move to where and when "
        "the booking already is (a retry) changes nothing: same `ETag`, no event, no e-mail to the client.",
        parameters=[_BOOKING_ID, _IF_MATCH, _ETAG],
        request=RescheduleSerializer,
        responses={
            200: BookingWithWarningsSerializer,
            409: conflict(
                "space_closed",
                "booking_overlap",
                "booking_closed",
                "concurrent_change",
                body=BookingConflictSerializer,
                details={"booking_overlap": GUIDE_OVERLAP_DETAILS},
            ),
            412: _BOOKING_CHANGED,
        },
        examples=[
            OpenApiExample(
                "An hour later",
                value={"start_time": "2024-01-15T11:00:00Z", "end_time": "2024-01-15T13:00:00Z"},
                request_only=True,
            )
        ],
    )
    def post(self, request, pk: int):
        booking = selectors.get_booking(viewer=request.user, pk=pk)
        data = RescheduleSerializer.check(request.data)
        expected_revisions = _expected_revisions(request, booking)
        with _in_api_terms():
            booking = services.reschedule_booking(
                booking=booking,
                actor=request.user,
                start=data["start_time"],
                end=data["end_time"],
                space=data.get("space_type"),
                expected_revisions=expected_revisions,
            )
        return _changed_booking(booking, request)


class BookingHistoryView(APIView):
    @extend_schema(
        operation_id="bookings_history",
        summary="What happened to a booking",
        description="The booking's events, oldest first: created, state changes with reasons, reschedules, "
        "photographer assignments, updates; each with who did it.",
        parameters=[_BOOKING_ID],
        responses=HistoryEntrySerializer(many=True),
    )
    def get(self, request, pk: int):
        booking = selectors.get_booking(viewer=request.user, pk=pk)
        return Response(HistoryEntrySerializer(selectors.booking_history(booking=booking), many=True).data)


def _series_conflict(doing: str):
    return error_response(
        f"`series_conflict`: some dates cannot be {doing}, and nothing was. `details.conflicts` lists each with "
        "the code and message a single booking would have answered (`booking_overlap`, `space_closed`, ...), "
        "without a single booking's `alternatives`: ask `GET /api/v1/spaces/{slug}/free-slots/` for a date. "
        + ("Also `booking_closed` when no booking of the series is left to move." if doing == "moved" else ""),
        OpenApiExample(
            "series_conflict",
            value={
                "error": {
                    "code": "series_conflict",
                    "message": f"Nothing was {doing}: 1 date of the series cannot be {doing} (Mon 22 Jan 2024).",
                    "details": {
                        "conflicts": [
                            {
                                "date": "2024-01-22",
                                "code": "booking_overlap",
                                "message": "Studio A is already booked on Mon 22 Jan 2024 from 09:00 to 11:00 "
                                "(booking #7).",
                            }
                        ]
                    },
                }
            },
        ),
    )


class SeriesCreateView(APIView):
    @extend_schema(
        operation_id="bookings_series_create",
        summary="Book the same slot every N weeks",
        description="A booking as for `POST /api/v1/bookings/`, repeated every `interval_weeks` weeks at the same "
        "time on the studio's wall clock (also across a daylight-saving change): `count` dates, or every date up "
        "to `until`; at most 52, the last within a year of the first and by 2099-12-31. Each date becomes an "
        "ordinary booking, with "
        "its own state and history, and meets the rules of a single booking. All or nothing: when a date is taken "
        "or closed, nothing is booked and 409 `series_conflict` lists every such date; with `skip_conflicts: true` "
        "the free dates are booked and the others answered in `skipped` (409 when no date is free). A time the "
        "clocks skip on one of the dates (the night they go forward) answers 400 naming that date, or with "
        "`skip_conflicts` is skipped with code `skipped_time`. One they show twice on a later date (the night "
        "they go back) answers 400 naming that date, with its two moments under `details.repeated_time`: send "
        "the one meant in `exact_times`. A booking the "
        "studio would refuse on any date (too many people, outside opening hours) answers 400. Send an "
        "`Idempotency-Key` to retry safely.",
        request=SeriesCreateSerializer,
        parameters=_idempotent_create_headers(
            _RETRY_AS_FOR_A_BOOKING,
            created="The new series.",
        ),
        responses={
            201: SeriesCreatedSerializer,
            409: _series_conflict("booked"),
            422: _KEY_REUSED,
        },
        examples=[
            OpenApiExample(
                "Every Monday for eight weeks",
                value={**GUIDE_BOOKING, "interval_weeks": 1, "count": 8},
                request_only=True,
            ),
            OpenApiExample(
                "Every other week until June, skipping taken dates",
                value={**GUIDE_BOOKING, "interval_weeks": 2, "until": "2024-06-30", "skip_conflicts": True},
                request_only=True,
            ),
        ],
    )
    @idempotent
    def post(self, request):
        data = SeriesCreateSerializer.check(request.data)
        with _in_api_terms():
            booked = series.create_series(
                actor=request.user,
                space=data["space_type"],
                start=data["start_time"],
                end=data["end_time"],
                people_count=data["people_count"],
                interval_weeks=data["interval_weeks"],
                count=data.get("count"),
                until=data.get("until"),
                skip_conflicts=data["skip_conflicts"],
                client_name=data["client_name"],
                client_phone=data["client_phone"],
                client_email=data["client_email"],
                notes=data["notes"],
                price=data.get("price"),
                exact_times=data["exact_times"],
            )
        body = {
            "series": selectors.get_series(viewer=request.user, pk=booked.series.pk),
            "skipped": [refusal.as_detail() for refusal in booked.left],
        }
        return Response(
            SeriesCreatedSerializer(body, context={"viewer": request.user}).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/bookings/series/{booked.series.pk}"},
        )


class SeriesDetailView(APIView):
    @extend_schema(
        operation_id="bookings_series_retrieve",
        summary="One recurring series",
        description="The rule the series was booked with and its bookings, first to last, each in its own state.",
        parameters=[_SERIES_ID],
        responses=SeriesSerializer,
    )
    def get(self, request, pk: int):
        found = selectors.get_series(viewer=request.user, pk=pk)
        return Response(SeriesSerializer(found, context={"viewer": request.user}).data)


class SeriesCancelView(APIView):
    @extend_schema(
        operation_id="bookings_series_cancel",
        summary="Cancel a series, whole or from a date on",
        description="Cancels every pending or confirmed booking of the series (from the local day `from` on, "
        "when given) with the `reason`, as `POST /api/v1/bookings/{id}/state` would; the bookings that are over "
        "or running are left and answered in `untouched`. 409 `booking_closed` when none is left to cancel. "
        "Needs the right to cancel bookings.",
        parameters=[_SERIES_ID],
        request=SeriesCancelSerializer,
        responses={200: SeriesCancelledSerializer, 409: conflict("booking_closed", "concurrent_change")},
        examples=[
            OpenApiExample(
                "From a date on",
                value={"from": "2024-03-04", "reason": "The client moved away."},
                request_only=True,
            )
        ],
    )
    def post(self, request, pk: int):
        found = selectors.get_series(viewer=request.user, pk=pk)
        data = SeriesCancelSerializer.check(request.data)
        change = series.cancel_series(
            series=found, actor=request.user, reason=data["reason"], from_day=data.get("from")
        )
        body = {
            "series": selectors.get_series(viewer=request.user, pk=pk),
            "cancelled": [booking.pk for booking in change.bookings],
            "untouched": [refusal.as_detail() for refusal in change.left],
        }
        return Response(SeriesCancelledSerializer(body, context={"viewer": request.user}).data)


class SeriesMoveView(APIView):
    @extend_schema(
        operation_id="bookings_series_move",
        summary="Move a series, whole or from a date on",
        description="Moves every pending or confirmed booking of the series (from the local day `from` on, when "
        "given) as `POST /api/v1/bookings/{id}/reschedule` would: to new wall-clock times (`start_time` and "
        "`end_time` together), `shift_days` days later or earlier, and/or to another space. Bookings that "
        "cannot move any more are left and answered in `untouched`. A new time the clocks show twice on one of "
        "the dates (the night they go back) answers 400 naming that date, with its two moments under "
        "`details.repeated_time`: send the one meant in `exact_times`. Moved by `shift_days` alone, a booking keeps "
        "its wall-clock times, and one the clocks show twice on its new day keeps its UTC offset. All or nothing: "
        "when a new slot is taken, nothing moves and 409 `series_conflict` lists every such date. Needs the right "
        "to change bookings.",
        parameters=[_SERIES_ID],
        request=SeriesMoveSerializer,
        responses={200: SeriesMovedSerializer, 409: _series_conflict("moved")},
        examples=[
            OpenApiExample(
                "An hour later from March on",
                value={"from": "2024-03-01", "start_time": "11:00", "end_time": "13:00"},
                request_only=True,
            ),
            OpenApiExample("To Tuesdays", value={"shift_days": 1}, request_only=True),
        ],
    )
    def post(self, request, pk: int):
        found = selectors.get_series(viewer=request.user, pk=pk)
        data = SeriesMoveSerializer.check(request.data)
        with _in_api_terms():
            change = series.move_series(
                series=found,
                actor=request.user,
                from_day=data.get("from"),
                start_time=data.get("start_time"),
                end_time=data.get("end_time"),
                shift_days=data["shift_days"],
                space=data.get("space_type"),
                exact_times=data["exact_times"],
            )
        body = {
            "series": selectors.get_series(viewer=request.user, pk=pk),
            "moved": [booking.pk for booking in change.bookings],
            "untouched": [refusal.as_detail() for refusal in change.left],
        }
        return Response(SeriesMovedSerializer(body, context={"viewer": request.user}).data)


class BookingsHealthView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="bookings_health",
        summary="Whether bookings can be read",
        description="No sign-in needed. 503 when the bookings' tables cannot be read.",
        responses={200: BookingsHealthSerializer, 503: BookingsHealthSerializer},
    )
    def get(self, request):
        try:
            spaces = selectors.active_space_count()
        except DatabaseError as exc:  # an unreachable database means "unhealthy", never a 500
            body = {"status": "error", "component": "bookings", "error": type(exc).__name__}
            return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"status": "ok", "component": "bookings", "active_spaces": spaces})


class SpaceListView(generics.ListAPIView):
    serializer_class = SpaceSerializer

    def get_queryset(self):
        return selectors.visible_spaces(viewer=self.request.user)

    @extend_schema(operation_id="spaces_list", summary="The studio's spaces")
    def get(self, request):
        return self.list(request)


class SpaceDetailView(APIView):
    @extend_schema(
        operation_id="spaces_retrieve", summary="One space", parameters=[_SPACE_SLUG], responses=SpaceSerializer
    )
    def get(self, request, slug: str):
        return Response(SpaceSerializer(selectors.get_space(viewer=request.user, slug=slug)).data)


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _day_named(value: str | None) -> date | None:
    """The YYYY-MM-DD day ``value`` names, if it does, to announce its free slots' version; the
    query's own check (DayQuerySerializer) answers anything else."""
    if value is None or not _ISO_DAY.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


class FreeSlotsView(APIView):
    def initial(self, request, *args, **kwargs):
        selectors.announce_free_slots(slug=kwargs["slug"], day=_day_named(request.query_params.get("date")))
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="spaces_free_slots",
        summary="Where a new booking fits on a day",
        description="The stretches of the space's opening hours on the studio's local `date` that a new "
        "booking (of at least the minimum duration, with its clean-up buffer) fits into.",
        parameters=[_SPACE_SLUG, DayQuerySerializer],
        responses=FreeSlotsSerializer,
    )
    def get(self, request, slug: str):
        space = selectors.get_space(viewer=request.user, slug=slug)
        day = _checked_query(DayQuerySerializer, request)["date"]
        slots = selectors.free_slots(space=space, day=day)
        return Response(FreeSlotsSerializer({"space": space, "date": day, "slots": slots}).data)


_CLOSURE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The closure's id.")


class ClosureListView(generics.ListAPIView):
    filterset_class = ClosureFilterSet
    serializer_class = ClosureSerializer

    def get_queryset(self):
        return selectors.visible_closures(viewer=self.request.user)

    @extend_schema(
        operation_id="closures_list",
        summary="List closures",
        description="Times a space or the whole studio (`space: null`) takes no bookings, in start order. "
        "`from`/`to` are days of the studio's local calendar (both included) the closures meet; `space` gives "
        "that space's closures and the whole studio's.",
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        operation_id="closures_create",
        summary="Close a space or the whole studio",
        description="From `start_time` to `end_time` no pending or confirmed booking may touch the space (or "
        "any space, without `space`), its clean-up buffer included: booking or moving one there answers 409 "
        "`space_closed`. Bookings already holding that time are not moved or cancelled: the answer lists "
        "them in `affected_bookings` for you to reschedule or cancel, and the waitlist entries waiting for a slot "
        "in it in `waiting_entries`. Needs `bookings.add_closure` (managers). "
        "Records `closure.created`. Send an `Idempotency-Key` to retry safely.",
        request=ClosureCreateSerializer,
        parameters=_idempotent_create_headers(
            _RETRY_AS_FOR_A_BOOKING,
            created="The new closure.",
        ),
        responses={
            201: ClosureCreatedSerializer,
            422: _KEY_REUSED,
        },
        examples=[
            OpenApiExample(
                "Studio A repainted",
                value={
                    "space": "studio_a",
                    "start_time": "2024-01-16T08:00:00Z",
                    "end_time": "2024-01-17T22:00:00Z",
                    "reason": "Floor repainting",
                },
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request):
        data = ClosureCreateSerializer.check(request.data)
        with _in_api_terms(_CLOSURE_FIELD_NAMES):
            recorded = services.create_closure(
                actor=request.user,
                space=data["space"],
                start=data["start_time"],
                end=data["end_time"],
                reason=data["reason"],
            )
        context = {"affected_bookings": recorded.affected_bookings, "waiting_entries": recorded.waiting_entries}
        return Response(
            ClosureCreatedSerializer(recorded.closure, context=context).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/closures/{recorded.closure.pk}"},
        )


class ClosureDetailView(APIView):
    @extend_schema(
        operation_id="closures_retrieve", summary="One closure", parameters=[_CLOSURE_ID], responses=ClosureSerializer
    )
    def get(self, request, pk: int):
        return Response(ClosureSerializer(selectors.get_closure(viewer=request.user, pk=pk)).data)

    @extend_schema(
        operation_id="closures_destroy",
        summary="Remove a closure",
        description="Its time takes bookings again. Needs `bookings.delete_closure` (managers). Records "
        "`closure.deleted`.",
        parameters=[_CLOSURE_ID],
        responses={204: None},
    )
    def delete(self, request, pk: int):
        closure = selectors.get_closure(viewer=request.user, pk=pk)
        services.delete_closure(closure=closure, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClientListView(generics.ListAPIView):
    serializer_class = ClientSerializer
    query_parameters = tuple(SearchQuerySerializer().fields)

    def get_queryset(self):
        search = _checked_query(SearchQuerySerializer, self.request)["search"]
        return selectors.clients_matching(viewer=self.request.user, query=search)

    @extend_schema(
        operation_id="clients_list",
        summary="Clients, by name",
        description="`?search=` finds clients whose name, e-mail or phone number contains it; the phone "
        'matches on digits, so "(415) 555-0101" finds +14155550101, and a whole number as dialled in the '
        "studio's country (`PHONE_DEFAULT_REGION`) finds its international form.",
        parameters=[SearchQuerySerializer],
    )
    def get(self, request):
        return self.list(request)


class ClientDetailView(APIView):
    @extend_schema(
        operation_id="clients_retrieve", summary="One client", parameters=[_CLIENT_ID], responses=ClientSerializer
    )
    def get(self, request, pk: int):
        return Response(ClientSerializer(selectors.get_client(viewer=request.user, pk=pk)).data)

    @extend_schema(
        operation_id="clients_partial_update",
        summary="Change a client's details",
        description="Change the fields sent, leave the rest. The phone number is stored in international "
        "form and must not belong to another client.",
        parameters=[_CLIENT_ID],
        request=ClientUpdateSerializer,
        responses=ClientSerializer,
        examples=[OpenApiExample("New e-mail", value={"email": "john.doe@example.com"})],
    )
    def patch(self, request, pk: int):
        client = selectors.get_client(viewer=request.user, pk=pk)
        changes = ClientUpdateSerializer.check(request.data)
        return Response(ClientSerializer(services.update_client(client=client, actor=request.user, **changes)).data)


class ClientHistoryView(APIView):
    @extend_schema(
        operation_id="clients_history",
        summary="A client's bookings and totals",
        parameters=[_CLIENT_ID],
        responses=ClientHistorySerializer,
    )
    def get(self, request, pk: int):
        client = selectors.get_client(viewer=request.user, pk=pk)
        history = selectors.client_history(viewer=request.user, client=client)
        return Response(ClientHistorySerializer(history, context={"viewer": request.user}).data)


def _checked_query(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ReportView(APIView):
    def initial(self, request, *args, **kwargs):
        # A valid period's versions are read with the caller's; an invalid one is answered in get().
        self.query = ReportQuerySerializer(data=request.query_params)
        if self.query.is_valid():
            reports.announce(start=self.query.validated_data["from"], end=self.query.validated_data["to"])
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="reports_retrieve",
        summary="The studio's figures over a period",
        description="Per space and per local day of `from` to `to` (both included, at most five years): open "
        "and booked hours, utilisation, bookings, completed sessions, no-shows, cancellations and revenue, "
        "in `currency`. Bookings never include cancelled ones (see `bookings_definition`). Needs the `reports` "
        "permission (managers and admins). Up to date to the minute: pre-aggregated figures are refreshed "
        "regularly and whatever changed since is counted live.",
        parameters=[ReportQuerySerializer],
        responses=ReportSerializer,
    )
    def get(self, request):
        self.query.is_valid(raise_exception=True)
        period = self.query.validated_data
        # Cached as JSON (DRF chose the JSON renderer before the view ran): five years of days
        # take longer to render than to read from the cache.
        start, end = period["from"], period["to"]
        answer = reports.rendered_report(viewer=request.user, start=start, end=end, render=report_json)
        return HttpResponse(answer, content_type=JSONRenderer.media_type)


# --- Waitlist -------------------------------------------------------------------------------------


def _entry(entry, request, **kwargs) -> Response:
    history = selectors.waitlist_history(entry=entry)
    return Response(WaitlistEntryDetailSerializer(entry, context={"history": history}).data, **kwargs)


class WaitlistListView(generics.ListAPIView):
    filterset_class = WaitlistFilterSet
    serializer_class = WaitlistEntrySerializer

    def get_queryset(self):
        return selectors.visible_waitlist(viewer=self.request.user)

    @extend_schema(
        operation_id="waitlist_list",
        summary="List waitlist entries",
        description="Clients waiting for a space at a time another booking holds, and what became of "
        "them, in start order. Narrow by `status`, `space` and `date` (a day of the studio's calendar).",
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        operation_id="waitlist_create",
        summary="Put a client on the waitlist",
        description="For a slot another booking holds: the body of `POST /api/v1/bookings/` (without "
        "`price`) that was refused with `booking_overlap`. The same rules apply (opening hours, "
        "capacity, times); a slot in a closure answers 409 `space_closed`, a slot nothing holds 409 "
        "`waitlist_slot_free` (book it instead), and a client already waiting for the space at an "
        "overlapping time 409 `already_on_waitlist`. "
        "When the slot frees up, `POST /api/v1/waitlist/{id}/book` books the client. Send an "
        "`Idempotency-Key` to retry safely.",
        request=WaitlistEntryCreateSerializer,
        parameters=_idempotent_create_headers(
            _RETRY_AS_FOR_A_BOOKING,
            created="The new waitlist entry.",
        ),
        responses={
            201: WaitlistEntryDetailSerializer,
            409: conflict("space_closed", "waitlist_slot_free", "already_on_waitlist"),
            422: _KEY_REUSED,
        },
        examples=[OpenApiExample("The guide's booking, taken", value=GUIDE_BOOKING, request_only=True)],
    )
    @idempotent
    def post(self, request):
        data = WaitlistEntryCreateSerializer.check(request.data)
        with _in_api_terms():
            entry = services.add_to_waitlist(
                actor=request.user,
                space=data["space_type"],
                start=data["start_time"],
                end=data["end_time"],
                people_count=data["people_count"],
                client_name=data["client_name"],
                client_phone=data["client_phone"],
                client_email=data["client_email"],
                notes=data["notes"],
            )
        return _entry(
            entry, request, status=status.HTTP_201_CREATED, headers={"Location": f"/api/v1/waitlist/{entry.pk}"}
        )


class WaitlistDetailView(APIView):
    @extend_schema(
        operation_id="waitlist_retrieve",
        summary="One waitlist entry",
        description="The entry with its history: added, slot opened, booked, withdrawn or expired.",
        parameters=[_WAITLIST_ID],
        responses=WaitlistEntryDetailSerializer,
    )
    def get(self, request, pk: int):
        return _entry(selectors.get_waitlist_entry(viewer=request.user, pk=pk), request)


class WaitlistBookView(APIView):
    @extend_schema(
        operation_id="waitlist_book",
        summary="Book the waiting client",
        description="Books the entry's client into its slot as `POST /api/v1/bookings/` would (pending, the "
        "space's rate); the entry becomes `booked` with the booking's id. A slot still taken answers 409 "
        "`booking_overlap`, a slot closed since 409 `space_closed`; an entry no longer waiting (or whose "
        "start has passed) 409 `waitlist_entry_closed`.",
        parameters=[_WAITLIST_ID],
        request=None,
        responses={
            200: WaitlistEntryDetailSerializer,
            409: conflict("booking_overlap", "space_closed", "waitlist_entry_closed"),
        },
    )
    def post(self, request, pk: int):
        entry = selectors.get_waitlist_entry(viewer=request.user, pk=pk)
        with _in_api_terms():
            entry = services.book_waitlist_entry(entry=entry, actor=request.user)
        return _entry(entry, request)


class WaitlistWithdrawView(APIView):
    @extend_schema(
        operation_id="waitlist_withdraw",
        summary="Take the client off the waitlist",
        description="The entry becomes `withdrawn`, with the `reason` in its history. An entry no longer "
        "waiting answers 409 `waitlist_entry_closed`.",
        parameters=[_WAITLIST_ID],
        request=WithdrawSerializer,
        responses={200: WaitlistEntryDetailSerializer, 409: conflict("waitlist_entry_closed")},
        examples=[OpenApiExample("Booked elsewhere", value={"reason": "Took another day"}, request_only=True)],
    )
    def post(self, request, pk: int):
        entry = selectors.get_waitlist_entry(viewer=request.user, pk=pk)
        data = WithdrawSerializer.check(request.data)
        return _entry(services.withdraw_waitlist_entry(entry=entry, actor=request.user, **data), request)
