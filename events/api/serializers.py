from rest_framework import serializers

from events.models import Delivery, Event, EventType, WebhookEndpoint
from photostudio.api import MULTILINE, InputSerializer


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = [
            "id",
            "event",
            "handler",
            "status",
            "attempts",
            "max_attempts",
            "next_attempt_at",
            "finished_at",
            "outcome",
            "last_error",
            "response_status",
            "created_at",
        ]
        read_only_fields = fields


class AggregateSerializer(serializers.Serializer):
    type = serializers.CharField(source="aggregate_type")
    id = serializers.CharField(source="aggregate_id")


class ActorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()


class EventSerializer(serializers.ModelSerializer):
    aggregate = AggregateSerializer(source="*")
    actor = ActorSerializer(allow_null=True)

    class Meta:
        model = Event
        fields = ["id", "type", "aggregate", "actor", "payload", "occurred_at", "dispatched_at"]
        read_only_fields = fields


class EventDetailSerializer(EventSerializer):
    deliveries = DeliverySerializer(many=True)

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "deliveries"]
        read_only_fields = fields


class WebhookEndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = ["id", "name", "url", "event_types", "is_active", "description", "created_at", "updated_at"]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    """Shown once, when the secret is created or rotated."""

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointInputSerializer(InputSerializer):
    name = serializers.CharField(max_length=100)
    url = serializers.CharField(max_length=500)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False)
    is_active = serializers.BooleanField(default=True)
    description = serializers.CharField(allow_blank=True, default="", style=MULTILINE)
