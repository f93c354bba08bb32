import functools

from django.contrib.admin import helpers
from django.core.exceptions import BadRequest, ValidationError
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
        """Every admin page, refusing as a bad request what would otherwise fail with a 500: a NUL
        in its query (a list's filters and search), which PostgreSQL cannot compare, and an action
        on a selection holding something that is no id of the list's objects."""
        guarded = super().admin_view(view, cacheable)
        model = getattr(getattr(view, "__self__", None), "model", None)

        @functools.wraps(guarded)
        def refusing_malformed_input(request, *args, **kwargs):
            if any("\x00" in value for _, values in request.GET.lists() for value in values):
                raise BadRequest("A NUL character is not accepted in the address.")
            if model is not None and not _all_ids_of(model, request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)):
                raise BadRequest("The selection names something that is not on the list.")
            return guarded(request, *args, **kwargs)

        return refusing_malformed_input

    def login(self, request, extra_context=None):
        if request.method == "GET" and self.has_permission(request):
            # Allowed in already (a bookmarked login page): on to the admin, as Django's own login does,
            # rather than the page saying the admin is closed to them.
            return redirect("admin:index")
        return login_view(request, for_admin=True)

    def logout(self, request, extra_context=None):
        return logout_view(request)

    def password_change(self, request, extra_context=None):
        # The studio's page, whose change also ends every other sign-in and API token.
        return redirect("password_change")


def _all_ids_of(model, values: list[str]) -> bool:
    """Whether each of ``values`` could be the id of a ``model`` (its type, within its column's range)."""
    field = model._meta.pk
    try:
        for value in values:
            field.run_validators(field.to_python(value))
    except ValidationError:
        return False
    return True
