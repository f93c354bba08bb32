"""The event log and webhook endpoint management. Views translate; selectors and services decide
who may do what (``events.view_event``, the webhook endpoint and delivery permissions)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from events import selectors, services
from events.api.serializers import (
    DeliverySerializer,
    EventDetailSerializer,
    EventSerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
)
from events.filtersets import DeliveryFilterSet, EventFilterSet
from events.models import Delivery, Event, WebhookEndpoint
from photostudio.openapi import conflict

_EVENT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The event's id.")
_ENDPOINT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The endpoint's id.")
_DELIVERY_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The delivery's id.")


def _building_schema(view) -> bool:
    return getattr(view, "swagger_fake_view", False)


@extend_schema_view(
    get=extend_schema(
        summary="List events",
        description="Everything that happened, newest first, by type (comma-separated), aggregate, actor "
        "and time. An event is listed once every event that occurred before it is committed, so polling "
        "from the newest `occurred_at` seen (`occurred_after` includes it) misses none. "
        "Needs `events.view_event` (managers).",
    )
)
class EventListView(generics.ListAPIView):
    serializer_class = EventSerializer
    filterset_class = EventFilterSet

    def get_queryset(self):
        if _building_schema(self):
            return Event.objects.none()
        return selectors.events_for(viewer=self.request.user)


class EventDetailView(APIView):
    @extend_schema(
        summary="One event with its deliveries",
        description="Each delivery is one handler's work for the event (an e-mail, a webhook POST).",
        parameters=[_EVENT_ID],
        responses=EventDetailSerializer,
    )
    def get(self, request, pk: int):
        event = selectors.event_detail(viewer=request.user, event_id=pk)
        return Response(EventDetailSerializer(event).data)


class DeliveryRetryView(APIView):
    @extend_schema(
        summary="Re-run a failed delivery",
        description="Gives a delivery that ran out of attempts a fresh set and queues it. "
        "Needs `events.retry_delivery`.",
        parameters=[_DELIVERY_ID],
        request=None,
        responses={202: DeliverySerializer, 409: conflict("delivery_not_failed")},
    )
    def post(self, request, pk: int):
        delivery = selectors.delivery_detail(viewer=request.user, delivery_id=pk)
        delivery = services.retry_delivery(actor=request.user, delivery=delivery)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(get=extend_schema(summary="List webhook endpoints"))
class WebhookEndpointListView(generics.ListAPIView):
    serializer_class = WebhookEndpointSerializer

    def get_queryset(self):
        if _building_schema(self):
            return WebhookEndpoint.objects.none()
        return selectors.webhook_endpoints(viewer=self.request.user)

    @extend_schema(
        summary="Add a webhook endpoint",
        description="The answer carries the endpoint's signing secret, shown only now. Only http(s) URLs "
        "of public hosts are accepted (see `WEBHOOKS_ALLOW_PRIVATE_TARGETS`).",
        request=WebhookEndpointInputSerializer,
        responses={201: WebhookEndpointWithSecretSerializer},
    )
    def post(self, request):
        data = WebhookEndpointInputSerializer.check(request.data)
        endpoint = services.create_webhook_endpoint(actor=request.user, **data)
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookEndpointDetailView(APIView):
    @extend_schema(summary="One webhook endpoint", parameters=[_ENDPOINT_ID], responses=WebhookEndpointSerializer)
    def get(self, request, pk: int):
        endpoint = selectors.webhook_endpoint(viewer=request.user, endpoint_id=pk)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        summary="Change a webhook endpoint",
        parameters=[_ENDPOINT_ID],
        request=WebhookEndpointInputSerializer,
        responses=WebhookEndpointSerializer,
    )
    def patch(self, request, pk: int):
        endpoint = selectors.webhook_endpoint(viewer=request.user, endpoint_id=pk)
        data = WebhookEndpointInputSerializer.check(request.data, partial=True)
        endpoint = services.update_webhook_endpoint(actor=request.user, endpoint=endpoint, **data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        summary="Remove a webhook endpoint",
        description="Its delivery log stays; deliveries still waiting are skipped.",
        parameters=[_ENDPOINT_ID],
        responses={204: None},
    )
    def delete(self, request, pk: int):
        endpoint = selectors.webhook_endpoint(viewer=request.user, endpoint_id=pk)
        services.delete_webhook_endpoint(actor=request.user, endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookSecretRotationView(APIView):
    @extend_schema(
        summary="Replace the signing secret",
        description="The new secret is in the answer and signs every later delivery, retries included.",
        parameters=[_ENDPOINT_ID],
        request=None,
        responses=WebhookEndpointWithSecretSerializer,
    )
    def post(self, request, pk: int):
        endpoint = selectors.webhook_endpoint(viewer=request.user, endpoint_id=pk)
        endpoint = services.rotate_webhook_secret(actor=request.user, endpoint=endpoint)
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)


@extend_schema_view(
    get=extend_schema(
        summary="An endpoint's delivery log",
        description="Every event sent to the endpoint, newest first: status, attempts, HTTP status, last error.",
        parameters=[_ENDPOINT_ID],
    )
)
class WebhookDeliveryListView(generics.ListAPIView):
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilterSet

    def get_queryset(self):
        if _building_schema(self):
            return Delivery.objects.none()
        return selectors.endpoint_deliveries(viewer=self.request.user, endpoint_id=self.kwargs["pk"])
