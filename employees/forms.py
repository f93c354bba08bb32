"""Shapes of the HTML forms; the rules behind them live in the services."""

from django import forms

from photostudio.inputs import InputRulesMixin


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
    phone = forms.CharField(max_length=32, required=False)
    department = forms.CharField(max_length=100, required=False)


class DisableMfaForm(InputRulesMixin, forms.Form):
    password = forms.CharField(
        max_length=4096, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    code = forms.CharField(max_length=32, widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}))
