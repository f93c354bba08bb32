"""The API's sign-in, token and employee endpoints. Views translate; ``authentication``,
``services``, ``mfa`` and ``selectors`` decide."""

from dataclasses import asdict

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from employees import authentication, calendar_feed, callers, mfa, selectors, services
from employees.api.serializers import (
    BackupCodesSerializer,
    CalendarFeedSerializer,
    EmployeeSerializer,
    EmployeeUpdateSerializer,
    EnrolmentSerializer,
    LoginSerializer,
    LogoutSerializer,
    MfaStatusSerializer,
    PasswordAndCodeSerializer,
    PasswordSerializer,
    ProfileSerializer,
    RefreshSerializer,
    RevokedSerializer,
    SignInSerializer,
    TokenPairSerializer,
)
from photostudio.cache import cache
from photostudio.openapi import error_response

_ERROR = error_response("See the error's `code` and `message`.")


class LoginView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=LoginSerializer,
        responses={200: TokenPairSerializer, 401: _ERROR, 403: _ERROR, 429: _ERROR},
        examples=[
            OpenApiExample("The guide's login", value={"username": "admin", "password": "password"}, request_only=True)
        ],
        description=(
            "Exchange username and password (and `mfa_code` for accounts with MFA) for tokens. "
            "401 `invalid_credentials`, `mfa_required` (send `mfa_code`), `invalid_mfa_code`; "
            "403 `mfa_enrollment_required`; 429 `locked_out` after "
            f"{settings.RATE_LIMIT_MAX_ATTEMPTS} failures within {settings.RATE_LIMIT_WINDOW} s."
        ),
    )
    def post(self, request):
        data = LoginSerializer.check(request.data)
        pair = authentication.sign_in_for_api(request=request._request, **data)
        return Response(asdict(pair))


class RefreshView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(request=RefreshSerializer, responses={200: TokenPairSerializer, 401: _ERROR, 403: _ERROR})
    def post(self, request):
        """A new token pair; the refresh token sent is blacklisted and cannot be used again. 403
        `mfa_enrollment_required` when the role came to require MFA after a sign-in without it."""
        data = RefreshSerializer.check(request.data)
        pair = authentication.refresh_tokens(request=request._request, **data)
        return Response(asdict(pair))


# Ending sign-ins is not counted by the API throttle: whoever holds a stolen token must not spend
# the quota its owner needs to end it.
_NOT_THROTTLED = []


class LogoutView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = _NOT_THROTTLED

    def perform_authentication(self, request):
        """A refresh token in the body names the sign-in to end by itself: the access token a client
        still sends beside it, run out or ended, does not refuse the logout."""
        try:
            super().perform_authentication(request)
        except exceptions.AuthenticationFailed:
            if not (isinstance(request.data, dict) and request.data.get("refresh_token")):
                raise

    @extend_schema(request=LogoutSerializer, responses={204: None, 401: _ERROR})
    def post(self, request):
        """End the token sign-in of the bearer access token, or of the `refresh_token` sent; called
        from a browser signed in on the pages (its session cookie and CSRF token), that browser's."""
        data = LogoutSerializer.check(request.data)
        if isinstance(request.successful_authenticator, SessionAuthentication) and not data.get("refresh_token"):
            authentication.end_browser_session(request._request)
            return Response(status=status.HTTP_204_NO_CONTENT)
        token = request.auth if request.auth is not None and hasattr(request.auth, "get") else {}
        authentication.sign_out_api(
            request=request._request,
            employee=request.user if request.user.is_authenticated else None,
            sign_in_id=token.get("sid"),
            **data,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def _profile(request) -> dict:
    context = {"mfa": selectors.mfa_status(request.user), "request": request}
    return ProfileSerializer(context=context).to_representation(request.user)


def _profile_json(request) -> bytes:
    """``_profile`` rendered as JSON. For a token's caller the bytes are kept until the employee,
    their permissions or MFA devices change: the caller's record and the MFA status they are made
    from are filed under those namespaces, whose versions the request read before the record (a
    browser session's employee was read from the database before them). The feed URL is on the
    request's host; whether MFA is required is a setting's."""
    employee = request.user
    if not isinstance(request.successful_authenticator, authentication.SignInJWTAuthentication):
        return JSONRenderer().render(_profile(request))
    return cache.get_or_set(
        f"profile-json:{employee.pk}:{employee.mfa_required}:{request.build_absolute_uri('/')}",
        lambda: JSONRenderer().render(_profile(request)),
        namespaces=[*callers.record_namespaces(employee.pk), selectors.MFA_NAMESPACE],
    )


class ProfileView(APIView):
    def initial(self, request, *args, **kwargs):
        selectors.announce_mfa_status()
        super().initial(request, *args, **kwargs)

    @extend_schema(responses=ProfileSerializer)
    def get(self, request):
        """The signed-in employee, with MFA status, effective permissions and calendar feed URL."""
        if request.accepted_media_type != JSONRenderer.media_type:  # e.g. "application/json; indent=4"
            return Response(_profile(request))
        # Rendered here, the bytes DRF's Response would write: its template-response rendering
        # cost a fixed share of the most frequent authenticated read.
        return HttpResponse(_profile_json(request), content_type=JSONRenderer.media_type)


class CalendarFeedView(APIView):
    @extend_schema(
        request=None,
        responses={200: CalendarFeedSerializer, 401: _ERROR},
        operation_id="employees_profile_calendar_feed_regenerate",
        description=(
            "Replace your calendar feed URL with a new one; the old one answers 404 from now on. "
            "Recorded as `employee.calendar_feed_regenerated`."
        ),
    )
    def post(self, request):
        employee = services.regenerate_calendar_feed(employee=request.user, actor=request.user)
        return Response({"calendar_feed_url": calendar_feed.feed_url(employee, request)})


class EmployeeListView(generics.ListAPIView):
    serializer_class = EmployeeSerializer

    def get_queryset(self):
        return selectors.employees_visible_to(self.request.user)

    def get(self, request):
        """All employees, a page at a time; needs `employees.view_employee` (managers, admins, front desk)."""
        if not request.user.has_perm("employees.view_employee"):
            raise PermissionDenied()
        return self.list(request)


class EmployeeDetailView(APIView):
    @extend_schema(responses=EmployeeSerializer)
    def get(self, request, pk: int):
        return Response(EmployeeSerializer(selectors.get_employee(pk=pk, viewer=request.user)).data)

    @extend_schema(
        request=EmployeeUpdateSerializer,
        responses={200: EmployeeSerializer, 403: _ERROR, 409: _ERROR},
        examples=[
            OpenApiExample(
                "The guide's update",
                value={"full_name": "John Admin", "department": "Management"},
                request_only=True,
            )
        ],
    )
    def put(self, request, pk: int):
        """Change the fields sent, leave the rest. Own name, phone and department: anyone;
        the rest needs the right to manage the employee (admins everyone, managers the front
        desk and photographers); the last active admin stays an active admin."""
        employee = selectors.get_employee(pk=pk, viewer=request.user)
        changes = EmployeeUpdateSerializer.check(request.data)
        employee = services.update_employee(employee=employee, actor=request.user, **changes)
        return Response(EmployeeSerializer(employee).data)

    @extend_schema(request=EmployeeUpdateSerializer, responses={200: EmployeeSerializer, 403: _ERROR, 409: _ERROR})
    def patch(self, request, pk: int):
        return self.put(request, pk)


class SignInListView(APIView):
    def get_throttles(self):
        return _NOT_THROTTLED if self.request.method == "DELETE" else super().get_throttles()

    @extend_schema(responses=SignInSerializer(many=True))
    def get(self, request):
        """Where you are signed in: browser sessions and API token sign-ins, most recent first,
        and the sign-ins ended in the last 30 days because a refresh token was reused
        (`token_reuse_detected_at` set)."""
        current = authentication.current_sign_in(request)
        context = {"current_sign_in_id": current.pk if current else None}
        sign_ins = selectors.sign_ins_listed_for(request.user)
        return Response(SignInSerializer(sign_ins, many=True, context=context).data)

    @extend_schema(
        request=None, responses={200: RevokedSerializer}, operation_id="employees_profile_sessions_revoke_others"
    )
    def delete(self, request):
        """End every sign-in except the one making this request."""
        ended = services.revoke_all_sign_ins(
            employee=request.user, actor=request.user, keep=authentication.current_sign_in(request)
        )
        return Response({"revoked": ended})


class SignInDetailView(APIView):
    throttle_classes = _NOT_THROTTLED

    @extend_schema(request=None, responses={204: None, 404: _ERROR}, operation_id="employees_profile_sessions_revoke")
    def delete(self, request, pk: int):
        sign_in = selectors.get_sign_in(pk=pk, viewer=request.user)
        services.revoke_sign_in(sign_in=sign_in, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MfaView(APIView):
    @extend_schema(responses=MfaStatusSerializer)
    def get(self, request):
        return Response(MfaStatusSerializer(selectors.mfa_status(request.user)).data)


_REAUTHENTICATION = (
    "A wrong password (400 `validation_failed`) or code (401 `invalid_mfa_code`) counts as a failed "
    "sign-in, and a locked account is refused (429 `locked_out`)."
)


class MfaEnrolmentView(APIView):
    @extend_schema(
        request=PasswordSerializer,
        responses={201: EnrolmentSerializer, 400: _ERROR, 409: _ERROR, 429: _ERROR},
        description=(
            "Start setting up an authenticator app, given your current password: a new secret, its "
            "otpauth URL and QR code. Confirm with a first code at `mfa/enrolment/confirm`. " + _REAUTHENTICATION
        ),
    )
    def post(self, request):
        data = PasswordSerializer.check(request.data)
        device = mfa.start_enrolment(request=request._request, employee=request.user, **data)
        body = {"secret": mfa.secret(device), "otpauth_url": device.config_url, "qr_svg": mfa.qr_code_svg(device)}
        return Response(body, status=status.HTTP_201_CREATED)


class MfaConfirmView(APIView):
    @extend_schema(
        request=PasswordAndCodeSerializer,
        responses={200: BackupCodesSerializer, 400: _ERROR, 401: _ERROR, 409: _ERROR, 429: _ERROR},
        description=(
            "Confirm the new authenticator with your current password and a code from it; answers the ten "
            "backup codes, shown once. Every other sign-in is ended. " + _REAUTHENTICATION
        ),
    )
    def post(self, request):
        data = PasswordAndCodeSerializer.check(request.data)
        codes = mfa.confirm_enrolment(
            request=request._request, employee=request.user, keep=authentication.current_sign_in(request), **data
        )
        return Response({"backup_codes": codes})


class BackupCodesView(APIView):
    @extend_schema(
        request=PasswordAndCodeSerializer,
        responses={200: BackupCodesSerializer, 400: _ERROR, 401: _ERROR, 409: _ERROR, 429: _ERROR},
        description=(
            "Replace the backup codes with ten new ones (shown once), given your password and a current code. "
            + _REAUTHENTICATION
        ),
    )
    def post(self, request):
        data = PasswordAndCodeSerializer.check(request.data)
        return Response(
            {"backup_codes": mfa.regenerate_backup_codes(request=request._request, employee=request.user, **data)}
        )


class MfaDisableView(APIView):
    @extend_schema(
        request=PasswordAndCodeSerializer,
        responses={204: None, 400: _ERROR, 401: _ERROR, 409: _ERROR, 429: _ERROR},
        description=(
            "Turn MFA off with your password and a code (refused when the role demands MFA). " + _REAUTHENTICATION
        ),
    )
    def post(self, request):
        data = PasswordAndCodeSerializer.check(request.data)
        mfa.disable_mfa(request=request._request, employee=request.user, **data)
        return Response(status=status.HTTP_204_NO_CONTENT)
