from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from photostudio.errors import ValidationFailed


def save_unless_taken(instance: models.Model, *, unique_field: str, reported_as: str = "", **save_kwargs) -> None:
    """Save ``instance`` in a savepoint, refusing a ``unique_field`` value that someone else took
    since validation checked it: ValidationFailed on ``reported_as`` (the field's name unless
    given) with the field's own message, and the caller's transaction still usable. Any other
    IntegrityError is raised as it is."""
    try:
        with transaction.atomic():
            instance.save(**save_kwargs)
    except IntegrityError:
        taken = type(instance)._default_manager.filter(**{unique_field: getattr(instance, unique_field)})
        if not taken.exclude(pk=instance.pk).exists():
            raise
        message = instance._meta.get_field(unique_field).error_messages["unique"]
        raise ValidationFailed(message, details={reported_as or unique_field: [message]}) from None


class AuditedModel(models.Model):
    """When a row was created and last changed, and by whom. Services set the *_by fields."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class IdempotencyKey(models.Model):
    """The first answer to a request sent with an ``Idempotency-Key`` header, replayed to retries
    of the same request by the same caller (see ``photostudio.idempotency``)."""

    caller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body of the request.")
    status_code = models.PositiveSmallIntegerField(null=True, help_text="Empty while the first request runs.")
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    # The same body as JSON text, its keys in the first answer's order, which PostgreSQL's jsonb
    # does not keep; empty in rows of earlier releases, which replay ``response_body``.
    response_text = models.TextField(
        blank=True, default="", db_default="", help_text="The first response's body as JSON, keys in order."
    )
    # db_default: a process of the previous release, still serving during a deploy, writes rows without it.
    location = models.CharField(
        max_length=255, blank=True, default="", db_default="", help_text="The first response's Location."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caller", "key"], name="idempotency_key_once_per_caller")]
        indexes = [models.Index(fields=["caller", "created_at"], name="idempotency_key_age_idx")]

    def __str__(self):
        return self.key
