from dataclasses import dataclass

from django.db.models import Count, Min
from django.utils import timezone

from events.models import Event


@dataclass(frozen=True)
class DispatchBacklog:
    count: int
    oldest_age_seconds: float


def dispatch_backlog() -> DispatchBacklog:
    """How many committed events wait for dispatch, and how long the oldest has waited."""
    summary = Event.objects.filter(dispatched_at__isnull=True).aggregate(count=Count("id"), oldest=Min("occurred_at"))
    oldest = summary["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return DispatchBacklog(count=summary["count"], oldest_age_seconds=round(max(age, 0.0), 1))
