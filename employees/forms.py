"""Shapes of the HTML forms; the rules behind them live in the services."""

from django import forms
from django.contrib.auth.forms import SetPasswordForm

from photostudio.inputs import InputRulesMixin
from photostudio.phones import validate_phone


class LoginForm(InputRulesMixin, forms.Form):
    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True})
    )
    password = forms.CharField(
        max_length=4096, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class CodeForm(InputRulesMixin, forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="Six digits from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"}),
    )


class ProfileForm(InputRulesMixin, forms.Form):
    full_name = forms.CharField(max_length=200, required=False)
    phone = forms.CharField(max_length=32, required=False, validators=[validate_phone])
    department = forms.CharField(max_length=100, required=False)


def _current_password_field(**attrs) -> forms.CharField:
    return forms.CharField(
        label="Your password",
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", **attrs}),
    )


class PasswordForm(InputRulesMixin, forms.Form):
    """Re-authentication before starting to set up two-factor authentication."""

    password = _current_password_field()


class PasswordAndCodeForm(InputRulesMixin, forms.Form):
    """Re-authentication with both factors: turning MFA off, new backup codes, confirming a new app."""

    password = _current_password_field()
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="Six digits from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )


class PasswordChangeForm(InputRulesMixin, SetPasswordForm):
    """Django's new-password pair and password policy. The current password is checked by
    ``authentication.change_own_password`` like a sign-in (it feeds the lockout), not here."""

    old_password = _current_password_field(autofocus=True)
    field_order = ["old_password", "new_password1", "new_password2"]
