import time

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from employees import services
from employees.authentication import SIGN_IN_SESSION_KEY
from employees.devices import has_mfa
from photostudio.api import error_body
from photostudio.errors import MfaEnrollmentRequired

# When the sign-in was last noted as active, and under which session key.
_NOTED_SESSION_KEY = "employees.sign_in_noted"
# Pages an employee who still has to set up MFA may open: the set-up itself and the way out.
_ENROLMENT_OPEN_URL_NAMES = frozenset({"mfa-enroll", "logout", "login", "login-verify"})


def _bearer_token_request(request) -> bool:
    """An API request that authenticates with a token, not the browser session: its sign-in and
    MFA are checked by ``SignInJWTAuthentication``, and its session (axes gives API logins one)
    need not be loaded at all. A page reads the browser session whatever ``Authorization`` says,
    so a bearer header sent to one changes nothing here. Read from ``META``: ``request.headers``
    would copy every header."""
    return request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer ") and request.path.startswith("/api/")


class SignInActivityMiddleware:
    """Keep the browser session's ``SignIn`` current: last seen, and the session key after Django
    cycles it (login, password change), so revoking it later deletes the right session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if _bearer_token_request(request):
            return response
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is None or user is None or not user.is_authenticated:
            return response
        sign_in_id = session.get(SIGN_IN_SESSION_KEY)
        if sign_in_id is None or not session.session_key:
            return response
        now = time.time()
        noted_at, noted_key = session.get(_NOTED_SESSION_KEY, (0, ""))
        if noted_key == session.session_key and now - noted_at < services.ACTIVITY_RESOLUTION.total_seconds():
            return response
        live = services.note_browser_activity(
            sign_in_id=sign_in_id,
            employee=user,
            session_key=session.session_key,
            expires_at=session.get_expiry_date(),
        )
        if live:
            # Not once the request ended its own sign-in: writing would save a session deleted with
            # it, which Django refuses with a 400.
            session[_NOTED_SESSION_KEY] = (now, session.session_key)
        return response


class MfaEnrollmentMiddleware:
    """Send an employee whose role demands MFA, and who has none yet, to set it up before
    anything else (the API answers 403 ``mfa_enrollment_required`` instead)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if _bearer_token_request(request):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.mfa_required or user.is_verified():
            return None
        match = request.resolver_match
        if match is not None and match.url_name in _ENROLMENT_OPEN_URL_NAMES:
            return None
        if has_mfa(user):
            return None
        if request.path.startswith("/api/"):
            error = MfaEnrollmentRequired()
            return JsonResponse(error_body(error.code, error.message), status=403)
        return redirect(reverse("mfa-enroll"))
