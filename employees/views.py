"""HTML pages: login with its code step, logout, the profile with MFA and sign-ins, passwords.

The views translate: forms check the shape, ``authentication``, ``services`` and ``mfa`` decide,
and a refusal is shown as the form error it explains (a lock as its own 429 page).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from employees import authentication, calendar_feed, devices, mfa, selectors, services
from employees.forms import CodeForm, LoginForm, PasswordAndCodeForm, PasswordChangeForm, PasswordForm, ProfileForm
from employees.models import SignIn
from photostudio import errors
from photostudio.api import error_body


def _next_url(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _locked_out_page(request, error: errors.LockedOut):
    seconds = error.details.get("retry_after_seconds", settings.RATE_LIMIT_LOCK_DURATION)
    response = render(
        request,
        "employees/locked_out.html",
        {"message": error.message, "minutes": max(1, -(-seconds // 60))},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


def lockout_response(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: keep the 429 the login path already rendered; anything else
    flagged by axes gets the same lock page (JSON under /api/)."""
    if original_response is not None and original_response.status_code == 429:
        return original_response
    error = errors.LockedOut()
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(error.code, error.message), status=429)
    return _locked_out_page(request, error)


@sensitive_post_parameters("password")
@never_cache
def login_view(request, for_admin: bool = False):
    """Step one of signing in: username and password (also the Django admin's login page)."""
    default_next = reverse("admin:index") if for_admin else settings.LOGIN_REDIRECT_URL
    next_url = _next_url(request, default_next)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            employee = authentication.check_password(
                request=request, channel=SignIn.Channel.BROWSER, **form.cleaned_data
            )
        except errors.LockedOut as exc:
            return _locked_out_page(request, exc)
        except errors.AuthenticationError as exc:
            form.add_error(None, exc.message)
        else:
            if devices.has_mfa(employee):
                authentication.hold_for_second_factor(request=request, employee=employee, next_url=next_url)
                return redirect("login-verify")
            authentication.start_browser_session(request=request, employee=employee, device=None)
            return HttpResponseRedirect(next_url)
    context = {
        "form": form,
        "next": next_url,
        "for_admin": for_admin,
        # The admin sends a signed-in employee here when the admin is not theirs to open.
        "admin_refused": for_admin and request.user.is_authenticated,
    }
    return render(request, "registration/login.html", context)


@sensitive_post_parameters("code")
@never_cache
def login_verify_view(request):
    """Step two: the code from the authenticator app or a backup code."""
    employee, next_url = authentication.pending_sign_in(request)
    if employee is None:
        messages.info(request, "Please sign in again: the code step expired.")
        return redirect("login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = authentication.verify_second_factor(
                request=request, employee=employee, code=form.cleaned_data["code"], channel=SignIn.Channel.BROWSER
            )
        except errors.LockedOut as exc:
            authentication.abandon_pending_sign_in(request)
            return _locked_out_page(request, exc)
        except errors.AuthenticationError as exc:
            form.add_error("code", exc.message)
        else:
            authentication.start_browser_session(request=request, employee=employee, device=device)
            return HttpResponseRedirect(next_url)
    return render(request, "registration/login_verify.html", {"form": form, "employee": employee})


@never_cache
def logout_view(request):
    if not request.user.is_authenticated:
        return redirect("login")
    if request.method == "POST":
        authentication.end_browser_session(request)
        messages.success(request, "You are signed out.")
        return redirect("login")
    return render(request, "registration/logout.html")


@login_required
def profile_view(request):
    employee = request.user
    form = ProfileForm(
        request.POST or None,
        initial={"full_name": employee.full_name, "phone": employee.phone, "department": employee.department},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_employee(employee=employee, actor=employee, **form.cleaned_data)
        except errors.DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("profile")
    current = authentication.current_sign_in(request)
    context = {
        "form": form,
        "mfa": selectors.mfa_status(employee),
        "sign_ins": selectors.active_sign_ins(employee),
        "ended_for_token_reuse": selectors.sign_ins_ended_for_token_reuse(employee),
        "current_sign_in_id": current.pk if current else None,
        "calendar_feed_url": calendar_feed.feed_url(employee, request),
        "whole_studio_calendar": employee.has_perm("bookings.subscribe_studio_calendar"),
    }
    return render(request, "employees/profile.html", context)


@login_required
@require_POST
def regenerate_calendar_feed_view(request):
    services.regenerate_calendar_feed(employee=request.user, actor=request.user)
    messages.success(request, "Your calendar feed has a new address; the old one no longer works.")
    return redirect(reverse("profile") + "#calendar-feed")


@login_required
@require_POST
def end_sign_in_view(request, pk: int):
    try:
        sign_in = selectors.get_sign_in(pk=pk, viewer=request.user)
    except errors.NotFound:
        messages.info(request, "That sign-in had already ended.")
    else:
        ends_this_browser = sign_in.session_key and sign_in.session_key == request.session.session_key
        services.revoke_sign_in(sign_in=sign_in, actor=request.user)
        if ends_this_browser:
            return redirect("login")
        messages.success(request, "The sign-in is ended.")
    return redirect("profile")


@login_required
@require_POST
def end_other_sign_ins_view(request):
    ended = services.revoke_all_sign_ins(
        employee=request.user, actor=request.user, keep=authentication.current_sign_in(request)
    )
    messages.success(request, f"Signed out everywhere else ({ended} sign-in{'s' if ended != 1 else ''} ended).")
    return redirect("profile")


@sensitive_post_parameters("password", "start-password", "code")
@login_required
def mfa_enroll_view(request):
    """Set up the authenticator app: start with the password (new secret and QR code), then
    confirm with the password and a code, which shows the backup codes once."""
    employee = request.user
    if devices.has_mfa(employee):
        return redirect("profile")
    starting = request.method == "POST" and request.POST.get("action") == "start"
    start_form = PasswordForm(request.POST if starting else None, prefix="start")
    if starting and start_form.is_valid():
        try:
            mfa.start_enrolment(request=request, employee=employee, **start_form.cleaned_data)
        except errors.DomainError as exc:
            start_form.add_error("password", exc.message)
        else:
            return redirect("mfa-enroll")
    device = mfa.pending_device(employee)
    form = PasswordAndCodeForm(request.POST if request.method == "POST" and not starting else None)
    if request.method == "POST" and not starting and device is not None and form.is_valid():
        try:
            codes = mfa.confirm_enrolment(
                request=request, employee=employee, keep=authentication.current_sign_in(request), **form.cleaned_data
            )
        except errors.DomainError as exc:
            form.add_error(_field_at_fault(exc), exc.message)
        else:
            authentication.mark_session_verified(request, mfa.enabled_device(employee))
            return render(request, "employees/backup_codes.html", {"codes": codes, "first_time": True})
    context = {"form": form, "start_form": start_form, "device": device, "required": employee.mfa_required}
    if device is not None:
        context |= {"qr_svg": mfa.qr_code_svg(device), "secret": mfa.secret(device), "issuer": settings.MFA_ISSUER}
    return render(request, "employees/mfa_enroll.html", context)


def _field_at_fault(exc: errors.DomainError) -> str | None:
    """The field of a PasswordAndCodeForm a refused re-authentication is marked at, if either."""
    if isinstance(exc, authentication.WrongPassword):
        return "password"
    if isinstance(exc, errors.InvalidMfaCode):
        return "code"
    return None


@sensitive_post_parameters("password", "code")
@login_required
def backup_codes_view(request):
    form = PasswordAndCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa.regenerate_backup_codes(request=request, employee=request.user, **form.cleaned_data)
        except errors.DomainError as exc:
            form.add_error(_field_at_fault(exc), exc.message)
        else:
            return render(request, "employees/backup_codes.html", {"codes": codes, "first_time": False})
    return render(request, "employees/backup_codes_form.html", {"form": form})


@sensitive_post_parameters("password", "code")
@login_required
def mfa_disable_view(request):
    form = PasswordAndCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mfa.disable_mfa(request=request, employee=request.user, **form.cleaned_data)
        except errors.DomainError as exc:
            form.add_error(_field_at_fault(exc), exc.message)
        else:
            messages.success(request, "Two-factor authentication is off.")
            return redirect("profile")
    return render(request, "employees/mfa_disable.html", {"form": form})


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
def password_change_view(request):
    """The current password is checked like a sign-in; the change ends every other sign-in."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            employee = authentication.change_own_password(
                request=request,
                employee=request.user,
                current_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except errors.DomainError as exc:
            form.add_error("old_password" if isinstance(exc, authentication.WrongPassword) else None, exc.message)
        else:
            update_session_auth_hash(request, employee)
            messages.success(request, "Your password is changed; every other sign-in was ended.")
            return redirect("profile")
    return render(request, "registration/password_change_form.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request page, sending no link to an address that had its hourly share
    (``authentication.may_send_reset_link``); it answers the same either way, as it does for an
    address nobody has."""

    def form_valid(self, form):
        if authentication.may_send_reset_link(form.cleaned_data["email"]):
            return super().form_valid(form)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset link page, setting the password through the service so every sign-in ends."""

    success_url = reverse_lazy("password_reset_complete")

    def dispatch(self, *args, **kwargs):
        # The link's token sets the password: the request log writes the path without it.
        self.request.logged_path = reverse(
            "password_reset_confirm", kwargs={"uidb64": kwargs["uidb64"], "token": "token"}
        )
        return super().dispatch(*args, **kwargs)

    def form_valid(self, form):
        services.change_password(employee=form.user, new_password=form.cleaned_data["new_password1"])
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())
