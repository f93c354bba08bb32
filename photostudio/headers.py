"""The security headers of every response: Content-Security-Policy and Permissions-Policy.

Every HTML page gets ``PAGE_POLICY``: scripts, styles, images and fonts only from the studio's
own origin, no inline script or event handler, no plugin, no framing, forms posting only to
ourselves. Style *attributes* stay allowed (``style-src-attr``): the calendar positions its
blocks with them, and an attribute cannot load or run anything; ``<style>`` elements may not.

The API docs run third-party bundles with needs of their own, so their views carry a wider
policy through ``content_security_policy``: Swagger UI and ReDoc inject their styles, and ReDoc
parses the schema in a blob: worker. The 500 page, which must render without static files,
carries its own (``SERVER_ERROR_POLICY``).
"""

from functools import wraps

CONTENT_SECURITY_POLICY = "Content-Security-Policy"


def _policy(**directives: str) -> str:
    return "; ".join(f"{name.replace('_', '-')} {value}" for name, value in directives.items())


_COMMON = {
    "default_src": "'self'",
    "base_uri": "'none'",
    "object_src": "'none'",
    "frame_ancestors": "'none'",
    "form_action": "'self'",
}
PAGE_POLICY = _policy(
    **_COMMON,
    script_src="'self'",
    style_src="'self'",
    style_src_elem="'self'",
    style_src_attr="'unsafe-inline'",
    img_src="'self' data:",
)
API_DOCS_POLICY = _policy(
    **_COMMON,
    script_src="'self'",
    style_src="'self' 'unsafe-inline'",
    img_src="'self' data:",
    font_src="'self' data:",
    worker_src="'self' blob:",
)
SERVER_ERROR_POLICY = _policy(
    default_src="'none'",
    style_src="'unsafe-inline'",
    base_uri="'none'",
    form_action="'none'",
    frame_ancestors="'none'",
)
# Powerful browser features the studio's pages never use, switched off for them and any frame.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
)


def content_security_policy(policy: str):
    """Give the responses of a view ``policy`` instead of ``PAGE_POLICY``."""

    def decorate(view):
        @wraps(view)
        def with_policy(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            response[CONTENT_SECURITY_POLICY] = policy
            return response

        return with_policy

    return decorate


class SecurityHeadersMiddleware:
    """``PAGE_POLICY`` on every HTML response that carries no policy of its own, and
    ``PERMISSIONS_POLICY`` on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault(CONTENT_SECURITY_POLICY, PAGE_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
