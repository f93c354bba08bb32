"""The one way in. The web login page, the Django admin and ``POST /api/v1/auth/login`` all run
the same steps, so lockout, MFA and the audit trail behave the same everywhere:

1. ``check_password``: refused while the username is locked (django-axes, see ``lockout``);
   a wrong password counts as a failure and may start the lock.
2. ``verify_second_factor``: for an employee with MFA, a code from the authenticator app
   (TOTP, never accepted twice) or one of the backup codes (each good once); a wrong code
   counts as a failure like a wrong password.
3. ``start_browser_session`` or ``issue_tokens``: the sign-in is recorded as a ``SignIn`` and
   an ``employee.login`` event.

Every refusal is recorded as ``employee.login_failed`` (and ``employee.locked_out`` when it
starts a lock) and raised as a typed error from ``photostudio.errors``.
"""

import hashlib
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address, get_client_user_agent
from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.models import Device
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken, Token, UntypedToken
from rest_framework_simplejwt.utils import aware_utcnow

from employees import callers, lockout, services
from employees.devices import has_mfa, match_code
from employees.models import Employee, SignIn
from events.services import publish
from photostudio import errors
from photostudio.cache import cache

# The session key under which a browser sign-in waits for its second factor.
PENDING_SESSION_KEY = "employees.pending_sign_in"
PENDING_TIMEOUT = timedelta(minutes=5)
# The session key holding the id of the browser session's SignIn.
SIGN_IN_SESSION_KEY = "employees.sign_in_id"


class WrongPassword(errors.ValidationFailed):
    """The current password given to confirm a sensitive change is not the employee's."""

    default_message = "The password is not correct."

    def __init__(self):
        super().__init__(details={"password": ["Not correct."]})


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


def client_facts(request) -> dict:
    """The caller's address and browser as the lockout sees them (proxy-aware)."""
    return {"ip_address": get_client_ip_address(request), "user_agent": get_client_user_agent(request)[:255]}


def _credentials(username: str) -> dict:
    return {"username": username}


def _locked_out(request, username: str) -> errors.LockedOut:
    handler = AxesProxyHandler.get_implementation()
    AxesProxyHandler.update_request(request)
    until = handler.locked_until(request, _credentials(username))
    seconds = max(1, int((until - timezone.now()).total_seconds())) if until else settings.RATE_LIMIT_LOCK_DURATION
    return errors.LockedOut(details={"retry_after_seconds": seconds})


def _refuse(request, username: str, *, reason: str, channel: str, error: errors.DomainError) -> NoReturn:
    """Record the refused sign-in and raise ``error``, or ``LockedOut`` if the username is locked."""
    locked = bool(getattr(request, "axes_locked_out", False)) or reason == errors.LockedOut.code
    facts = {"username": username, "reason": reason, "channel": channel, **client_facts(request)}
    with transaction.atomic():
        aggregate = Employee.objects.filter(username=username).first()
        if aggregate is None:
            # An unknown username has no employee; the failure is filed under axes' own record of it.
            aggregate = _failure_record(username)
        if aggregate is not None:
            publish("employee.login_failed", aggregate, payload=facts)
            if locked and reason != errors.LockedOut.code:
                publish(
                    "employee.locked_out",
                    aggregate,
                    payload={**facts, "lock_seconds": settings.RATE_LIMIT_LOCK_DURATION},
                )
    raise _locked_out(request, username) if locked else error


def _failure_record(username: str) -> AccessFailureLog | None:
    return AccessFailureLog.objects.filter(username=username).order_by("-attempt_time", "-id").first()


def check_password(*, request, username: str, password: str, channel: str) -> Employee:
    """Step one: the employee whose username and password these are.

    ``request`` is Django's HttpRequest. Raises LockedOut or InvalidCredentials.
    """
    with lockout.guesses_in_turn(username):
        allowed = AxesProxyHandler.is_allowed(request, _credentials(username))
        employee = auth.authenticate(request, username=username, password=password) if allowed else None
    if not allowed:
        _refuse(request, username, reason=errors.LockedOut.code, channel=channel, error=errors.LockedOut())
    if employee is None:
        _refuse(
            request,
            username,
            reason=errors.InvalidCredentials.code,
            channel=channel,
            error=errors.InvalidCredentials(),
        )
    return employee


def verify_second_factor(*, request, employee: Employee, code: str, channel: str) -> Device:
    """Step two for an employee with MFA. Raises LockedOut or InvalidMfaCode."""
    credentials = _credentials(employee.username)
    with lockout.guesses_in_turn(employee.username):
        allowed = AxesProxyHandler.is_allowed(request, credentials)
        device = match_code(employee, code) if allowed else None
        if allowed and device is None:
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    if not allowed:
        _refuse(request, employee.username, reason=errors.LockedOut.code, channel=channel, error=errors.LockedOut())
    if device is None:
        _refuse(
            request,
            employee.username,
            reason=errors.InvalidMfaCode.code,
            channel=channel,
            error=errors.InvalidMfaCode(),
        )
    return device


def channel_of(request) -> str:
    """Whether the request came through the API or a browser page, as sign-ins record it."""
    return SignIn.Channel.API if request.path.startswith("/api/") else SignIn.Channel.BROWSER


def confirm_password(*, request, employee: Employee, password: str) -> None:
    """Re-authentication before a sensitive change: the signed-in employee's current password,
    checked exactly like a sign-in's, so a wrong one is a failed sign-in that feeds the lockout
    and a locked account is refused even with the right one. Call it outside any transaction,
    or a refusal would roll its own record back.

    Raises LockedOut or WrongPassword.
    """
    try:
        check_password(request=request, username=employee.username, password=password, channel=channel_of(request))
    except errors.InvalidCredentials:
        raise WrongPassword() from None


def confirm_code(*, request, employee: Employee, code: str) -> None:
    """Re-authentication with the second factor: a code checked like the sign-in's code step.

    Raises LockedOut or InvalidMfaCode.
    """
    verify_second_factor(request=request, employee=employee, code=code, channel=channel_of(request))


def change_own_password(*, request, employee: Employee, current_password: str, new_password: str) -> Employee:
    """An employee changing their own password: the current one is confirmed first (see
    ``confirm_password``); every other sign-in ends.

    Raises LockedOut, WrongPassword, or ValidationFailed (a new password the policy refuses).
    """
    confirm_password(request=request, employee=employee, password=current_password)
    return services.change_password(employee=employee, new_password=new_password, keep=current_sign_in(request))


def _record_login(request, employee: Employee, sign_in: SignIn) -> None:
    publish(
        "employee.login",
        employee,
        actor=employee,
        payload={
            "channel": sign_in.channel,
            "ip_address": sign_in.ip_address,
            "user_agent": sign_in.user_agent,
            "mfa": sign_in.mfa_verified,
            "sign_in_id": sign_in.pk,
        },
    )


@transaction.atomic
def start_browser_session(*, request, employee: Employee, device: Device | None) -> SignIn:
    """Step three on the web and in the admin: log the session in and record the sign-in.

    A sign-in the browser already held (a login page left open in another tab, a colleague's)
    ends, and the new one gets a session key of its own: Django keeps the key when the same
    employee signs in again, so ending the old sign-in would otherwise end the new one too.
    """
    previous_id = request.session.get(SIGN_IN_SESSION_KEY)
    if device is not None:
        employee.otp_device = device  # django_otp marks the session verified on login
    auth.login(request, employee, backend="django.contrib.auth.backends.ModelBackend")
    request.session.pop(PENDING_SESSION_KEY, None)
    if previous_id is not None:
        request.session.cycle_key()
        previous = SignIn.objects.select_related("employee").filter(pk=previous_id, revoked_at__isnull=True).first()
        if previous is not None:
            services.revoke_sign_in(sign_in=previous, actor=previous.employee)
    if request.session.session_key is None:
        request.session.save()
    sign_in = SignIn.objects.create(
        employee=employee,
        channel=SignIn.Channel.BROWSER,
        session_key=request.session.session_key,
        mfa_verified=device is not None,
        expires_at=request.session.get_expiry_date(),
        **client_facts(request),
    )
    request.session[SIGN_IN_SESSION_KEY] = sign_in.pk
    _record_login(request, employee, sign_in)
    return sign_in


def _new_refresh_token(sign_in: SignIn) -> RefreshToken:
    refresh = RefreshToken.for_user(sign_in.employee)
    refresh["sid"] = sign_in.pk
    return refresh


def _pair(refresh: RefreshToken) -> TokenPair:
    return TokenPair(
        access_token=str(refresh.access_token),
        refresh_token=str(refresh),
        expires_in=settings.JWT_EXPIRATION,
    )


@transaction.atomic
def issue_tokens(*, request, employee: Employee, device: Device | None) -> TokenPair:
    """Step three for the API: a new token sign-in and its first access and refresh tokens."""
    user_logged_in.send(sender=Employee, request=request, user=employee)
    sign_in = SignIn.objects.create(
        employee=employee,
        channel=SignIn.Channel.API,
        mfa_verified=device is not None,
        expires_at=timezone.now() + RefreshToken.lifetime,
        **client_facts(request),
    )
    refresh = _new_refresh_token(sign_in)
    sign_in.refresh_jti = refresh["jti"]
    sign_in.save(update_fields=["refresh_jti"])
    _record_login(request, employee, sign_in)
    return _pair(refresh)


def sign_in_for_api(*, request, username: str, password: str, mfa_code: str = "") -> TokenPair:
    """``POST /api/v1/auth/login``: all three steps in one call.

    Raises LockedOut, InvalidCredentials, MfaRequired (password right, code missing),
    InvalidMfaCode, or MfaEnrollmentRequired (the role demands MFA and none is set up).
    """
    employee = check_password(request=request, username=username, password=password, channel=SignIn.Channel.API)
    device = None
    if has_mfa(employee):
        if not mfa_code:
            raise errors.MfaRequired()
        device = verify_second_factor(request=request, employee=employee, code=mfa_code, channel=SignIn.Channel.API)
    elif employee.mfa_required:
        raise errors.MfaEnrollmentRequired()
    return issue_tokens(request=request, employee=employee, device=device)


class TokenReused(errors.InvalidToken):
    code = "token_reused"
    default_message = (
        "This refresh token was already exchanged for a new one, so its sign-in has been ended "
        "in case someone copied it. Log in again."
    )


def _token_sign_in(refresh_token: str, *, request) -> tuple[RefreshToken | None, SignIn]:
    """The live sign-in whose current refresh token this is, locked for the caller's transaction.

    A genuine refresh token of a live sign-in that is no longer its current one was rotated away
    (or is being used twice at once): the sign-in is ended for reuse and None is returned for it,
    so the caller can commit that before refusing. Raises InvalidToken.
    """
    try:
        claims = UntypedToken(refresh_token)  # signature and expiry; the blacklist is checked below
    except TokenError:
        raise errors.InvalidToken() from None
    if claims.get("token_type") != RefreshToken.token_type:
        raise errors.InvalidToken()
    sign_in = (
        SignIn.objects.select_related("employee")
        .select_for_update(of=("self",))
        .filter(pk=claims.get("sid"), revoked_at__isnull=True)
        .first()
    )
    owner = str(claims.get(jwt_settings.USER_ID_CLAIM))
    if sign_in is None or not sign_in.employee.is_active or str(sign_in.employee_id) != owner:
        raise errors.InvalidToken()
    if sign_in.refresh_jti != claims.get("jti"):
        services.end_sign_in_for_token_reuse(sign_in=sign_in, **client_facts(request))
        return None, sign_in
    try:
        return RefreshToken(refresh_token), sign_in
    except TokenError:
        raise errors.InvalidToken() from None


def refresh_tokens(*, request, refresh_token: str) -> TokenPair:
    """``POST /api/v1/auth/refresh``: a new pair for a valid refresh token, whose use ends it
    (blacklisted, so presenting it again is refused). Presenting an already exchanged refresh
    token again ends its whole sign-in (see ``services.end_sign_in_for_token_reuse``).

    A sign-in made without a second factor for a role that now demands one gets no new pair, as
    its access tokens are refused (``SignInJWTAuthentication``).

    Raises InvalidToken, TokenReused or MfaEnrollmentRequired.
    """
    with transaction.atomic():
        old, sign_in = _token_sign_in(refresh_token, request=request)
        if old is not None:
            if sign_in.employee.mfa_required and not sign_in.mfa_verified:
                raise errors.MfaEnrollmentRequired()
            return _rotate(request, old, sign_in)
    raise TokenReused()


def _rotate(request, old: RefreshToken, sign_in: SignIn) -> TokenPair:
    old.blacklist()
    refresh = _new_refresh_token(sign_in)
    sign_in.refresh_jti = refresh["jti"]
    sign_in.expires_at = refresh.current_time + refresh.lifetime
    sign_in.last_seen_at = timezone.now()
    facts = client_facts(request)
    sign_in.ip_address = facts["ip_address"]
    sign_in.user_agent = facts["user_agent"]
    sign_in.save(update_fields=["refresh_jti", "expires_at", "last_seen_at", "ip_address", "user_agent"])
    return _pair(refresh)


def sign_out_api(*, request, employee: Employee | None, sign_in_id: int | None, refresh_token: str = "") -> None:
    """``POST /api/v1/auth/logout``: end the token sign-in named by the access token the caller
    authenticated with, or by the refresh token sent (an already exchanged one ends its sign-in
    as reused). Raises InvalidToken when neither names one, TokenReused."""
    if refresh_token:
        with transaction.atomic():
            current, sign_in = _token_sign_in(refresh_token, request=request)
            if current is not None:
                services.revoke_sign_in(sign_in=sign_in, actor=sign_in.employee)
                return
        raise TokenReused()
    sign_in = SignIn.objects.filter(pk=sign_in_id, employee=employee, revoked_at__isnull=True).first()
    if sign_in is None:
        raise errors.InvalidToken()
    services.revoke_sign_in(sign_in=sign_in, actor=sign_in.employee)


# Access tokens this process validated in full, by their bytes; emptied when it reaches the bound.
_validated_tokens: dict[bytes, Token] = {}
_VALIDATED_TOKENS_BOUND = 10_000


class SignInJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer authentication, refusing tokens whose sign-in was revoked or expired
    (so revoking works at once, not only when the access token runs out), and tokens without a
    second factor for a role that now demands one."""

    def get_validated_token(self, raw_token: bytes) -> Token:
        """simplejwt's checks in full the first time this process sees ``raw_token``. The same
        bytes always hold the same claims under the same signature, so a token seen before only
        has its expiry checked again; whether its sign-in still stands is ``get_user``'s question,
        asked on every request."""
        token = _validated_tokens.get(raw_token)
        if token is not None:
            try:
                token.check_exp(current_time=aware_utcnow())
                return token
            except TokenError:
                _validated_tokens.pop(raw_token, None)  # and refused below, as a token never seen
        token = super().get_validated_token(raw_token)
        if len(_validated_tokens) >= _VALIDATED_TOKENS_BOUND:
            _validated_tokens.clear()
        _validated_tokens[raw_token] = token
        return token

    def get_user(self, validated_token):
        """The employee, their sign-in and permissions from the cached caller record
        (``employees.callers``): no query when cached."""
        try:
            employee_id = validated_token[jwt_settings.USER_ID_CLAIM]
        except KeyError:
            raise InvalidToken("Token contained no recognizable user identification") from None
        record, key = callers.caller(employee_id=employee_id, sign_in_id=validated_token.get("sid"))
        now = timezone.now()
        if record is None or not record.signed_in(now):
            raise exceptions.AuthenticationFailed("This sign-in was ended; log in again.", code="token_revoked")
        employee = record.employee()
        if not employee.is_active:
            raise exceptions.AuthenticationFailed("User is inactive", code="user_inactive")
        if employee.mfa_required and not record.mfa_verified:
            raise exceptions.AuthenticationFailed(errors.MfaEnrollmentRequired.default_message, code="mfa_required")
        callers.note_activity(record, key, now=now, resolution=services.ACTIVITY_RESOLUTION)
        return employee


class SignInJWTScheme(SimpleJWTScheme):
    """Documents ``SignInJWTAuthentication`` in the OpenAPI schema as the bearer JWT it is."""

    target_class = SignInJWTAuthentication


def hold_for_second_factor(*, request, employee: Employee, next_url: str) -> None:
    """Remember, in the browser session, whose password was right while the code step runs."""
    request.session[PENDING_SESSION_KEY] = {
        "employee_id": employee.pk,
        "until": (timezone.now() + PENDING_TIMEOUT).timestamp(),
        "next": next_url,
    }


def pending_sign_in(request) -> tuple[Employee | None, str]:
    """The employee waiting for the code step and where to go after it; None once expired."""
    pending = request.session.get(PENDING_SESSION_KEY)
    if not pending or pending["until"] < timezone.now().timestamp():
        request.session.pop(PENDING_SESSION_KEY, None)
        return None, ""
    return Employee.objects.filter(pk=pending["employee_id"], is_active=True).first(), pending["next"]


def abandon_pending_sign_in(request) -> None:
    request.session.pop(PENDING_SESSION_KEY, None)


def end_browser_session(request) -> None:
    """Log the browser out and end its sign-in."""
    sign_in_id = request.session.get(SIGN_IN_SESSION_KEY)
    if request.user.is_authenticated and sign_in_id is not None:
        sign_in = SignIn.objects.filter(pk=sign_in_id, employee=request.user, revoked_at__isnull=True).first()
        if sign_in is not None:
            services.revoke_sign_in(sign_in=sign_in, actor=request.user)
    auth.logout(request)


def current_sign_in(request) -> SignIn | None:
    """The sign-in the request was made with: the access token's, or the browser session's."""
    token = getattr(request, "auth", None)
    sign_in_id = token.get("sid") if token is not None and hasattr(token, "get") else None
    if sign_in_id is None and hasattr(request, "session"):
        sign_in_id = request.session.get(SIGN_IN_SESSION_KEY)
    if sign_in_id is None:
        return None
    return SignIn.objects.filter(pk=sign_in_id, employee=request.user).first()


def mark_session_verified(request, device: Device) -> None:
    """The browser session just proved the second factor (by confirming a new device)."""
    otp_login(request, device)


def may_send_reset_link(email: str) -> bool:
    """Whether another password reset link may go to ``email`` in this clock hour: at most
    ``PASSWORD_RESET_EMAILS_PER_HOUR``, so nobody can flood a colleague's inbox from the reset
    page. Counted in the cache, across processes on Redis; True while it cannot count."""
    address = hashlib.sha256(email.strip().lower().encode()).hexdigest()  # no address kept in Redis
    hour = int(time.time() // 3600)  # a counter per hour: cache.take remembers a spent one
    return cache.take(f"password_reset:{address}:{hour}", limit=settings.PASSWORD_RESET_EMAILS_PER_HOUR, ttl=3600)
