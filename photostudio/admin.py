"""What the model admins that save through the services share."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse

from photostudio.errors import DomainError, NotFound, ValidationFailed


class RefusalsAsMessagesMixin:
    """For a ModelAdmin whose saves and deletes go through the services: a refusal that only the
    save finds, as someone changed or removed the object in between, is shown as a message on the
    page it came from (the list, when the object is gone) instead of answering 500. The admin's
    transaction is rolled back with it, so nothing of the request is saved or logged.

    A last resort: what was typed is not shown again. A refusal people can meet in the normal
    course belongs in the form's ``clean()`` (as the employee form checks under the service's
    locks)."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (DomainError, ValidationError) as refusal:
            return self._refused(request, refusal)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except (DomainError, ValidationError) as refusal:
            return self._refused(request, refusal)

    def _refused(self, request, refusal: DomainError | ValidationError) -> HttpResponseRedirect:
        if isinstance(refusal, NotFound):  # removed meanwhile: gone, as a delete wanted, but not by this request
            self.message_user(request, refusal.message, messages.WARNING)
            meta = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        if isinstance(refusal, ValidationError):  # some services check with the model's own validation
            reasons = refusal.messages
        else:
            fields = refusal.details.items() if isinstance(refusal, ValidationFailed) else ()
            reasons = [refusal.message, *(f"{field}: {' '.join(map(str, problems))}" for field, problems in fields)]
        self.message_user(request, " ".join(reasons), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())
