"""The event log and webhook endpoint management. Views translate; selectors and services decide
who may do what (``events.view_event``, the webhook endpoint and delivery permissions)."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.pagination import CursorPagination
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
from events.models import Delivery, Event


class NewestFirstPagination(CursorPagination):
    ordering = ("-occurred_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class DeliveryPagination(NewestFirstPagination):
    ordering = ("-created_at", "-id")


class EventListView(generics.ListAPIView):
    """Events by type, aggregate, actor and time, newest first."""

    serializer_class = EventSerializer
    filterset_class = EventFilterSet
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return Event.objects.none()
        return selectors.events_for(viewer=self.request.user)


class EventDetailView(APIView):
    @extend_schema(responses=EventDetailSerializer)
    def get(self, request, pk: int):
        event = selectors.event_detail(viewer=request.user, event_id=pk)
        return Response(EventDetailSerializer(event).data)


class DeliveryRetryView(APIView):
    @extend_schema(request=None, responses=DeliverySerializer)
    def post(self, request, pk: int):
        """Give a failed delivery a fresh set of attempts (409 unless it is failed)."""
        delivery = selectors.delivery_detail(viewer=request.user, delivery_id=pk)
        delivery = services.retry_delivery(actor=request.user, delivery=delivery)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookEndpointListView(APIView):
    @extend_schema(responses=WebhookEndpointSerializer(many=True))
    def get(self, request):
        endpoints = selectors.webhook_endpoints(viewer=request.user)
        return Response(WebhookEndpointSerializer(endpoints, many=True).data)

    @extend_schema(request=WebhookEndpointInputSerializer, responses={201: WebhookEndpointWithSecretSerializer})
    def post(self, request):
        """Add an endpoint. The response carries its signing secret; it is not shown again."""
        data = _checked(WebhookEndpointInputSerializer(data=request.data))
        endpoint = services.create_webhook_endpoint(actor=request.user, **data)
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookEndpointDetailView(APIView):
    @extend_schema(responses=WebhookEndpointSerializer)
    def get(self, request, pk: int):
        endpoint = selectors.webhook_endpoint(viewer=request.user, endpoint_id=pk)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(request=WebhookEndpointInputSerializer, responses=WebhookEndpointSerializer)
    def patch(self, request, pk: int):
        endpoint = selectors.webhook_endpoint(viewer=request.user, endpoint_id=pk)
        data = _checked(WebhookEndpointInputSerializer(data=request.data, partial=True))
        endpoint = services.update_webhook_endpoint(actor=request.user, endpoint=endpoint, **data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        endpoint = selectors.webhook_endpoint(viewer=request.user, endpoint_id=pk)
        services.delete_webhook_endpoint(actor=request.user, endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookSecretRotationView(APIView):
    @extend_schema(request=None, responses=WebhookEndpointWithSecretSerializer)
    def post(self, request, pk: int):
        """Replace the signing secret; the new one is in the response and signs every later delivery."""
        endpoint = selectors.webhook_endpoint(viewer=request.user, endpoint_id=pk)
        endpoint = services.rotate_webhook_secret(actor=request.user, endpoint=endpoint)
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)


class WebhookDeliveryListView(generics.ListAPIView):
    """The endpoint's delivery log, newest first."""

    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilterSet
    pagination_class = DeliveryPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return Delivery.objects.none()
        return selectors.endpoint_deliveries(viewer=self.request.user, endpoint_id=self.kwargs["pk"])


def _checked(serializer) -> dict:
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
