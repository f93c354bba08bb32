from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from photostudio import health, metrics
from photostudio.headers import API_DOCS_POLICY, content_security_policy

api_v1 = [
    path("", include("bookings.api.urls")),
    path("", include("employees.api.urls")),
    path("", include("events.api.urls")),
]

urlpatterns = [
    # First: the API takes the most requests, and nothing else starts with its prefix.
    path("api/v1/", include(api_v1)),
    # admin.site is employees' StudioAdminSite: admins and managers with a verified second factor.
    path("admin/", admin.site.urls),
    path("", include("employees.urls")),
    re_path(r"^health/?$", health.app, name="health"),
    re_path(r"^health/db/?$", health.database, name="health-db"),
    re_path(r"^health/cache/?$", health.cache_, name="health-cache"),
    *health.registered_urls(),
    path("metrics", metrics.export, name="prometheus-django-metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's start-up script is served as a file (?script), not inline, for the page's CSP.
    re_path(
        r"^docs/?$",
        content_security_policy(API_DOCS_POLICY)(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
    re_path(
        r"^redoc/?$",
        content_security_policy(API_DOCS_POLICY)(SpectacularRedocView.as_view(url_name="schema")),
        name="redoc",
    ),
    # The staff pages; "/" is Today, and sends a visitor who is not signed in to the login page.
    path("", include("bookings.urls")),
]

# Under /api/ an unknown address (and, should a bug get through, a server error) answers the
# API's JSON error body, not an HTML page.
handler404 = "photostudio.api.not_found"
handler500 = "photostudio.api.server_error"
