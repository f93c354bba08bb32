"""Employees in the admin: every change goes through ``employees.services`` (the same rules as the
API), the form showing a refusal as its error; managers see everyone but change only the front
desk and photographers, and can lift a sign-in lock."""

from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from employees import lockout, mfa, services
from employees.models import Employee, Role
from photostudio import errors
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
            services.check_update(employee=Employee.objects.get(pk=self.instance.pk), actor=self.actor, changes=changes)
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
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ["username", "full_name", "role", "department", "is_active", "has_mfa", "is_locked", "last_login"]
    list_filter = ["role", "is_active", "department"]
    search_fields = ["username", "full_name", "email", "phone"]
    ordering = ["full_name", "username"]
    actions = ["unlock", "end_sign_ins", "reset_mfa"]

    def get_queryset(self, request):
        lock_started_after = timezone.now() - lockout.lock_duration()
        return (
            super()
            .get_queryset(request)
            .annotate(
                mfa_on=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
                locked=Exists(
                    AccessAttempt.objects.filter(
                        username=OuterRef("username"),
                        failures_since_start__gte=settings.RATE_LIMIT_MAX_ATTEMPTS,
                        attempt_time__gt=lock_started_after,
                    )
                ),
            )
        )

    @admin.display(boolean=True, description="MFA", ordering="mfa_on")
    def has_mfa(self, employee):
        return employee.mfa_on

    @admin.display(boolean=True, description="Locked", ordering="locked")
    def is_locked(self, employee):
        return employee.locked

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
