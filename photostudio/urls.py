from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from photostudio import api, health, metrics
from photostudio.headers import API_DOCS_POLICY, content_security_policy

api_v1 = [
    path("", include("employees.api.urls")),
    path("", include("bookings.api.urls")),
    path("", include("events.api.urls")),
]

# Django tries these in order on every request, the API's (most requests) first. No two of the
# prefixes' patterns match the same address, but for the API's catch-all, which must follow the API.
urlpatterns = [
    path("api/v1/", include(api_v1)),
    # Any other address under the API: its JSON 404 even with DEBUG on, where Django would answer
    # its HTML debug page (handler404 below serves it only with DEBUG off).
    re_path(r"^api/v1/", api.unknown_address),
    re_path(r"^health/?$", health.app, name="health"),
    re_path(r"^health/db/?$", health.database, name="health-db"),
    re_path(r"^health/cache/?$", health.cache_, name="health-cache"),
    *health.registered_urls(),
    path("metrics", metrics.export, name="prometheus-django-metrics"),
    # admin.site is employees' StudioAdminSite: admins and managers with a verified second factor.
    path("admin/", admin.site.urls),
    path("", include("employees.urls")),
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

# Under /api/ a request refused before any view, an unknown address and, should a bug get
# through, a server error answer the API's JSON error body, not an HTML page.
handler400 = "photostudio.api.bad_request"
handler404 = "photostudio.api.not_found"
handler500 = "photostudio.api.server_error"
