"""Employees in the admin: every change goes through ``employees.services`` (the same rules as the
API), the form showing a refusal as its error; managers see everyone but change only the front
desk and photographers, and can lift a sign-in lock."""

from datetime import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from bookings.selectors import upcoming_sessions_of
from employees import lockout, mfa, services
from employees.models import Employee, Role, SignIn
from photostudio import errors
from photostudio.admin import RefusalsAsMessagesMixin
from photostudio.dates import moment_text
from photostudio.inputs import InputRulesMixin


def _form_error(exc: errors.DomainError) -> ValidationError:
    return ValidationError(exc.message, code=exc.code)


class EmployeeChangeForm(InputRulesMixin, forms.ModelForm):
    class Meta:
        model = Employee
        fields = ["full_name", "email", "phone", "department", "role", "is_active"]

    def clean(self):
        cleaned = super().clean()
        changes = {name: cleaned[name] for name in self.changed_data if name in cleaned}
        try:
            # The admin checks and saves in one transaction: the locks make the check hold for the save.
            employee, active_admin_ids = services.locked_for_update(self.instance)
            services.check_update(
                employee=employee, actor=self.actor, changes=changes, active_admin_ids=active_admin_ids
            )
        except errors.DomainError as exc:
            raise _form_error(exc) from exc
        return cleaned


class EmployeeAddForm(InputRulesMixin, forms.ModelForm):
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", strip=False, widget=forms.PasswordInput)

    class Meta:
        model = Employee
        fields = ["username", "full_name", "email", "phone", "department", "role"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        elif cleaned.get("password1"):
            try:
                candidate = Employee(username=cleaned.get("username", ""), email=cleaned.get("email", ""))
                validate_password(cleaned["password1"], user=candidate)
            except ValidationError as exc:
                self.add_error("password1", exc)
        if cleaned.get("role"):
            try:
                services.check_create(actor=self.actor, role=cleaned["role"])
            except errors.DomainError as exc:
                self.add_error("role", _form_error(exc))
        return cleaned


@admin.register(Employee)
class EmployeeAdmin(RefusalsAsMessagesMixin, admin.ModelAdmin):
    list_display = ["username", "full_name", "role", "department", "is_active", "has_mfa", "sign_in_lock", "last_login"]
    list_filter = ["role", "is_active", "department"]
    search_fields = ["username", "full_name", "email", "phone"]
    ordering = ["full_name", "username"]
    actions = ["unlock", "end_sign_ins", "reset_mfa", "replace_calendar_feeds"]

    change_form_template = "admin/employees/employee/change_form.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                mfa_on=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
                lock_started=lockout.lock_started(),
            )
        )

    @admin.display(boolean=True, description="MFA", ordering="mfa_on")
    def has_mfa(self, employee):
        return employee.mfa_on

    @admin.display(description="Sign-in", ordering="lock_started")
    def sign_in_lock(self, employee):
        until = _locked_until(employee)
        if until is None:
            return "—"
        return format_html('<strong class="locked">Locked until {}</strong>', _clock(until))

    def get_urls(self):
        unlock = path(
            "<int:object_id>/unlock/", self.admin_site.admin_view(self.unlock_view), name="employees_employee_unlock"
        )
        return [unlock, *super().get_urls()]

    def unlock_view(self, request, object_id: int):
        """The change page's Unlock button (POST only): lifts the lock through the unlock service."""
        employee = get_object_or_404(self.get_queryset(request), pk=object_id)
        change_page = reverse("admin:employees_employee_change", args=[employee.pk])
        if request.method != "POST" or not self.has_change_permission(request, employee):
            return HttpResponseRedirect(change_page)
        try:
            services.unlock_employee(employee=employee, actor=request.user)
        except errors.DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, f"{employee} can sign in again.", messages.SUCCESS)
        return HttpResponseRedirect(change_page)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Deactivating an employee with upcoming sessions first asks whether to keep them on them."""
        extra_context = extra_context or {}
        if object_id is not None:
            employee = self.get_object(request, object_id)
            if employee is not None:
                until = _locked_until(employee)
                extra_context["locked_until"] = until and _clock(until)
                if request.method == "POST" and self._deactivating(request, employee):
                    sessions = upcoming_sessions_of(photographer=employee, now=timezone.now())
                    if sessions and request.POST.get("_upcoming_sessions") not in ("keep", "unassign"):
                        return self._ask_about_sessions(request, employee, sessions)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _deactivating(self, request, employee) -> bool:
        """Whether the POST turns the active flag off: a form without that flag (one's own record,
        someone one may only view) sends none, and deactivates nobody."""
        editable = self.has_change_permission(request, employee) and "is_active" not in self.get_readonly_fields(
            request, employee
        )
        return editable and employee.is_active and request.POST.get("is_active") not in ("on", "true", "True", "1")

    def _ask_about_sessions(self, request, employee, sessions):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "employee": employee,
            "sessions": sessions,
            "posted": [(name, value) for name in request.POST for value in request.POST.getlist(name)],
            "title": f"Deactivate {employee}?",
        }
        return TemplateResponse(request, "admin/employees/employee/deactivate_confirmation.html", context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = EmployeeChangeForm if obj is not None else EmployeeAddForm
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["username", "full_name", "email", "phone", "department", "role", "password1", "password2"]
        return ["username", "full_name", "email", "phone", "department", "role", "is_active", "last_login"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.pk == request.user.pk and not request.user.can_manage_employee(obj):
            # Editing oneself without the right to manage oneself: name, phone and department only.
            return ["username", "email", "role", "is_active", "last_login"]
        return ["username", "last_login"]

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and request.user.role != Role.ADMIN:
            kwargs["choices"] = [
                (value, label)
                for value, label in Role.choices
                if request.user.can_assign_role(Employee(role=value), value)
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.pk == request.user.pk or request.user.can_manage_employee(obj))

    def has_delete_permission(self, request, obj=None):
        # Employees are deactivated, never deleted, so bookings and the event trail keep their actor.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            if changes.get("is_active") is False:
                del changes["is_active"]
                if changes:
                    services.update_employee(employee=obj, actor=request.user, **changes)
                unassigned = services.deactivate_employee(
                    employee=obj,
                    actor=request.user,
                    unassign_upcoming_sessions=request.POST.get("_upcoming_sessions") == "unassign",
                )
                if unassigned:
                    self.message_user(request, f"{obj} was taken off {len(unassigned)} upcoming session(s).")
                return
            services.update_employee(employee=obj, actor=request.user, **changes)
            return
        data = form.cleaned_data
        created = services.create_employee(
            actor=request.user,
            username=data["username"],
            password=data["password1"],
            role=data["role"],
            **{name: data[name] for name in ("full_name", "email", "phone", "department")},
        )
        # The admin goes on with the form's instance (history entry, redirect): make it the saved row.
        obj.pk = created.pk
        obj._state.adding = False

    def _for_each(self, request, queryset, command, done: str):
        succeeded = 0
        for employee in queryset:
            try:
                command(employee=employee, actor=request.user)
            except errors.DomainError as exc:
                self.message_user(request, f"{employee}: {exc.message}", messages.WARNING)
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, f"{done}: {succeeded} employee{'s' if succeeded != 1 else ''}.")

    @admin.action(description="Unlock sign-in of the selected employees", permissions=["change"])
    def unlock(self, request, queryset):
        self._for_each(request, queryset, services.unlock_employee, "Unlocked")

    @admin.action(description="Sign the selected employees out everywhere", permissions=["change"])
    def end_sign_ins(self, request, queryset):
        self._for_each(request, queryset, services.revoke_all_sign_ins, "Signed out")

    @admin.action(description="Reset two-factor authentication (lost phone)", permissions=["change"])
    def reset_mfa(self, request, queryset):
        self._for_each(request, queryset, mfa.reset_mfa, "Two-factor authentication reset")

    # A feed URL opens clients' names and phones without a sign-in: whoever manages its owner must
    # be able to end a leaked one (a lost phone, a shared calendar) without deactivating them.
    @admin.action(description="Replace the calendar feed URL (the old one stops working)", permissions=["change"])
    def replace_calendar_feeds(self, request, queryset):
        self._for_each(request, queryset, services.regenerate_calendar_feed, "Calendar feed URL replaced")


@admin.register(SignIn)
class SignInAdmin(admin.ModelAdmin):
    """Where employees are signed in, and were: read only, without the session key or token id
    that would let a reader act as them. Ending one goes through ``services.revoke_sign_in``, with
    its rule of who may end whose."""

    list_display = ["employee", "channel", "ip_address", "created_at", "last_seen_at", "ended"]
    list_filter = ["channel", ("revoked_at", admin.EmptyFieldListFilter), "mfa_verified"]
    search_fields = ["employee__username", "employee__full_name", "ip_address"]
    list_select_related = ["employee"]
    date_hierarchy = "created_at"
    fields = [
        "employee",
        "channel",
        "ip_address",
        "user_agent",
        "mfa_verified",
        "created_at",
        "last_seen_at",
        "expires_at",
        "revoked_at",
        "token_reuse_detected_at",
    ]
    readonly_fields = fields
    actions = ["end"]

    @admin.display(description="Ended", boolean=True)
    def ended(self, sign_in):
        return sign_in.revoked_at is not None

    def has_add_permission(self, request):
        return False  # sign-ins are made by signing in

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)  # the list's action, no edit page

    def has_delete_permission(self, request, obj=None):
        return False  # the record of a sign-in stays; ending it is the action

    @admin.action(description="End the selected sign-ins", permissions=["change"])
    def end(self, request, queryset):
        ended = 0
        for sign_in in queryset.select_related("employee").filter(revoked_at__isnull=True):
            try:
                services.revoke_sign_in(sign_in=sign_in, actor=request.user)
            except errors.DomainError as exc:
                self.message_user(request, f"{sign_in}: {exc.message}", messages.WARNING)
            else:
                ended += 1
        self.message_user(request, f"Ended {ended} sign-in{'s' if ended != 1 else ''}.")


def _unregister_credential_pages() -> None:
    """An employee's authenticator secret and backup codes are shown once, to them (employees.mfa),
    and their tokens to the program they signed in with. django-otp's and simplejwt's own admin
    pages would show them to every admin, and add or remove devices past employees.mfa, which ends
    the sign-ins and tells the employee: MFA is reset, and sign-ins ended, with the actions above."""
    for model in (TOTPDevice, StaticDevice, OutstandingToken, BlacklistedToken):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


_unregister_credential_pages()


def _locked_until(employee) -> datetime | None:
    started = getattr(employee, "lock_started", None)
    return None if started is None else started + lockout.lock_duration()


def _clock(moment: datetime) -> str:
    return moment_text(moment, with_year=False)
