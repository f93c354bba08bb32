import functools

from django.core.exceptions import BadRequest
from django.shortcuts import redirect
from django_otp.admin import OTPAdminSite

from employees.views import login_view, logout_view


class StudioAdminSite(OTPAdminSite):
    """The Django admin, open only to active admins and managers whose session passed the second
    factor. It signs in through the studio's own login page, so lockout and MFA work as
    everywhere else."""

    name = "admin"
    site_header = "Studio CRM administration"
    site_title = "Studio CRM admin"
    index_title = "Studio administration"

    def __init__(self, name="admin"):
        super().__init__(name)

    def admin_view(self, view, cacheable=False):
        """Every admin page, refusing a NUL in its query (a list's filters and search) as a bad
        request: PostgreSQL cannot compare text holding one, so the list would fail with a 500."""
        guarded = super().admin_view(view, cacheable)

        @functools.wraps(guarded)
        def refusing_nul(request, *args, **kwargs):
            if any("\x00" in value for _, values in request.GET.lists() for value in values):
                raise BadRequest("A NUL character is not accepted in the address.")
            return guarded(request, *args, **kwargs)

        return refusing_nul

    def login(self, request, extra_context=None):
        return login_view(request, for_admin=True)

    def logout(self, request, extra_context=None):
        return logout_view(request)

    def password_change(self, request, extra_context=None):
        # The studio's page, whose change also ends every other sign-in and API token.
        return redirect("password_change")
