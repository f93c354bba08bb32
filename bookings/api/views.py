"""The bookings, spaces and clients endpoints. Views translate HTTP to the services and selectors
of ``bookings`` and back; the rules live there."""

from contextlib import contextmanager

from django.db import DatabaseError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings import day_lists, reports, selectors, services
from bookings.api.serializers import (
    BookingCreatedSerializer,
    BookingCreateSerializer,
    BookingDetailSerializer,
    BookingSerializer,
    BookingsHealthSerializer,
    BookingUpdateSerializer,
    ClientHistorySerializer,
    ClientSerializer,
    ClientUpdateSerializer,
    DayQuerySerializer,
    FreeSlotsSerializer,
    HistoryEntrySerializer,
    ReportQuerySerializer,
    ReportSerializer,
    RescheduleSerializer,
    SearchQuerySerializer,
    SpaceSerializer,
    StateChangeSerializer,
    report_body,
)
from bookings.filtersets import BookingFilterSet
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
# The names the API's fields have where the services speak of the model's.
_API_FIELD_NAMES = {"start": "start_time", "end": "end_time", "space": "space_type"}
_BOOKING_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The booking's id.")
_CLIENT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The client's id.")
_SPACE_SLUG = OpenApiParameter(
    "slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The space's slug, e.g. studio_a."
)


@contextmanager
def _in_api_terms():
    """Renames the fields a service's ValidationFailed names to the API's (``start`` → ``start_time``)."""
    try:
        yield
    except ValidationFailed as exc:
        exc.details = {_API_FIELD_NAMES.get(field, field): messages for field, messages in exc.details.items()}
        raise


def _booking(booking, request, **kwargs) -> Response:
    return Response(BookingSerializer(booking, context={"viewer": request.user}).data, **kwargs)


class BookingListView(generics.ListAPIView):
    filterset_class = BookingFilterSet
    serializer_class = BookingSerializer

    def get_queryset(self):
        return selectors.visible_bookings(viewer=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "viewer": self.request.user}

    def list(self, request, *args, **kwargs):
        day = day_lists.day_list_day(request.query_params)
        if day is None or not request.user.has_perm("bookings.view_booking"):
            return super().list(request, *args, **kwargs)
        bookings = day_lists.day_list(
            day=day, params=request.query_params, load=lambda: self.filter_queryset(self.get_queryset())
        )
        page = self.paginate_queryset(bookings)
        serializer = self.get_serializer()
        return self.get_paginated_response([serializer.for_viewer(booking, part) for booking, part in page])

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
        "for the duration. A start in the past is allowed (imports). `warnings` says what the caller "
        "should know: `client_name_mismatch` when the phone number's client has another name than "
        "`client_name` (the booking is theirs), `client_not_notified` when the client has no e-mail "
        "address. Send an `Idempotency-Key` to retry safely.",
        request=BookingCreateSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Any unique string (1-255 visible ASCII characters, e.g. a UUID). A retry with the "
                "same key and body answers the first response again instead of booking twice; the same key "
                "with another body answers 422 `idempotency_key_reused`. Kept for 24 hours.",
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
            OpenApiParameter(
                "Location", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[201], description="The new booking."
            ),
        ],
        responses={
            201: OpenApiResponse(
                BookingCreatedSerializer,
                description="Booked. A replayed answer carries `Idempotent-Replayed: true`.",
                examples=[OpenApiExample("The guide's booking", value=GUIDE_BOOKING_ANSWER)],
            ),
            409: conflict("booking_overlap"),
            422: error_response("The `Idempotency-Key` was already used for a different request."),
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
        warnings = selectors.booking_warnings(booking=booking, client_name=data["client_name"])
        context = {"viewer": request.user, "warnings": warnings}
        return Response(
            BookingCreatedSerializer(booking, context=context).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/bookings/{booking.pk}"},
        )


class BookingDetailView(APIView):
    @extend_schema(
        operation_id="bookings_retrieve",
        summary="One booking",
        description="The booking with the notifications about it: each e-mail to the client or the "
        "photographer, whether it was sent, and why not.",
        parameters=[_BOOKING_ID],
        responses=BookingDetailSerializer,
    )
    def get(self, request, pk: int):
        booking = selectors.get_booking(viewer=request.user, pk=pk)
        context = {"viewer": request.user, "notifications": selectors.notifications_for(booking=booking)}
        return Response(BookingDetailSerializer(booking, context=context).data)

    @extend_schema(
        operation_id="bookings_partial_update",
        summary="Change notes, people, photographer or price",
        description="Change the fields sent, leave the rest. Notes may change in any state, the rest only "
        "while the booking holds its space. `price` needs the right to set prices by hand (managers); "
        "`null` returns to the space's rate. Times and space change through `/reschedule`, the state "
        "through `/state`.",
        parameters=[_BOOKING_ID],
        request=BookingUpdateSerializer,
        responses={200: BookingSerializer, 409: conflict("booking_closed", "concurrent_change")},
        examples=[OpenApiExample("More people", value={"people_count": 4, "notes": "Bringing a dog."})],
    )
    def patch(self, request, pk: int):
        booking = selectors.get_booking(viewer=request.user, pk=pk)
        changes = BookingUpdateSerializer.check(request.data)
        return _booking(services.update_booking(booking=booking, actor=request.user, **changes), request)


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
        "into a state that holds the space needs it free (409 `booking_overlap`). The booking's "
        "`allowed_transitions` lists what the caller may do.",
        parameters=[_BOOKING_ID],
        request=StateChangeSerializer,
        responses={
            200: BookingSerializer,
            409: conflict("invalid_transition", "too_early", "booking_overlap", "concurrent_change"),
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
        booking = services.transition_booking(booking=booking, actor=request.user, **data)
        return _booking(booking, request)


class BookingRescheduleView(APIView):
    @extend_schema(
        operation_id="bookings_reschedule",
        summary="Move a booking to other times or another space",
        description="For pending and confirmed bookings, under the same rules as a new booking. A price "
        "set by hand is kept; otherwise it follows the new duration and space.",
        parameters=[_BOOKING_ID],
        request=RescheduleSerializer,
        responses={200: BookingSerializer, 409: conflict("booking_overlap", "booking_closed", "concurrent_change")},
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
        with _in_api_terms():
            booking = services.reschedule_booking(
                booking=booking,
                actor=request.user,
                start=data["start_time"],
                end=data["end_time"],
                space=data.get("space_type"),
            )
        return _booking(booking, request)


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


class FreeSlotsView(APIView):
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


class ClientListView(generics.ListAPIView):
    serializer_class = ClientSerializer

    def get_queryset(self):
        search = _checked_query(SearchQuerySerializer, self.request)["search"]
        return selectors.clients_matching(viewer=self.request.user, query=search)

    @extend_schema(
        operation_id="clients_list",
        summary="Clients, by name",
        description="`?search=` finds clients whose name, e-mail or phone number contains it; the phone "
        'matches on digits, so "(415) 555-0101" finds +14155550101.',
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
        period = _checked_query(ReportQuerySerializer, request)
        report = reports.studio_report(viewer=request.user, start=period["from"], end=period["to"])
        return Response(report_body(report))
