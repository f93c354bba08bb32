from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Domain events"

    def ready(self):
        from events import (
            metrics,  # noqa: F401 - registers the backlog gauges with Prometheus
            tasks,  # noqa: F401 - registers the tasks beat schedules, also outside a worker
        )

        # Every app's subscribers module registers its handlers (``@subscriber``) on import.
        autodiscover_modules("subscribers")
