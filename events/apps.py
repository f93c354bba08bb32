from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Domain events"

    def ready(self):
        from events import (
            selectors,
            services,
            tasks,  # noqa: F401 - hands the services their tasks and registers those beat schedules
        )
        from events.health import probe_events
        from events.metrics import BacklogCollector
        from photostudio.exports import Dataset, register_dataset
        from photostudio.health import register_probe
        from photostudio.metrics import register_database_collector
        from photostudio.retention import Prunable, register_prunable

        register_probe("events", probe_events)
        register_database_collector(BacklogCollector())

        register_dataset(
            Dataset(
                name="events",
                description="events that occurred in the period (the audit trail)",
                columns=selectors.EVENT_EXPORT_COLUMNS,
                rows=selectors.events_for_export,
            )
        )

        register_prunable(Prunable("succeeded and skipped deliveries", services.prune_deliveries))
        register_prunable(Prunable("events (the audit trail)", services.prune_events, audit_trail=True))

        # Every app's subscribers module registers its handlers (``@subscriber``) on import.
        autodiscover_modules("subscribers")
