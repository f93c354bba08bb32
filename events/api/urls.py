from django.urls import re_path

from events.api import views

urlpatterns = [
    re_path(r"^events/?$", views.EventListView.as_view(), name="api-events"),
    re_path(r"^events/(?P<pk>[0-9]+)/?$", views.EventDetailView.as_view(), name="api-event"),
    re_path(
        r"^events/deliveries/(?P<pk>[0-9]+)/retry/?$", views.DeliveryRetryView.as_view(), name="api-delivery-retry"
    ),
    re_path(r"^webhooks/?$", views.WebhookEndpointListView.as_view(), name="api-webhooks"),
    re_path(r"^webhooks/(?P<pk>[0-9]+)/?$", views.WebhookEndpointDetailView.as_view(), name="api-webhook"),
    re_path(
        r"^webhooks/(?P<pk>[0-9]+)/rotate-secret/?$",
        views.WebhookSecretRotationView.as_view(),
        name="api-webhook-rotate-secret",
    ),
    re_path(
        r"^webhooks/(?P<pk>[0-9]+)/deliveries/?$",
        views.WebhookDeliveryListView.as_view(),
        name="api-webhook-deliveries",
    ),
]
