"""What the model admins that save through the services share."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from photostudio.errors import DomainError, NotFound


class RefusalsAsMessagesMixin:
    """For a ModelAdmin whose saves and deletes go through the services: a refusal that only the
    save finds, as someone changed or removed the object in between, is shown as a message on the
    page it came from (the list, when the object is gone) instead of answering 500. The admin's
    transaction is rolled back with it, so nothing of the request is saved or logged."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as refusal:
            return self._refused(request, refusal)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as refusal:
            return self._refused(request, refusal)

    def _refused(self, request, refusal: DomainError) -> HttpResponseRedirect:
        self.message_user(request, refusal.message, messages.ERROR)
        if isinstance(refusal, NotFound):
            meta = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        return HttpResponseRedirect(request.get_full_path())
