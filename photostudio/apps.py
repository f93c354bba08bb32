from django.apps import AppConfig


class PhotostudioConfig(AppConfig):
    name = "photostudio"
    verbose_name = "Studio CRM"

    def ready(self):
        from photostudio import cache
        from photostudio.idempotency import prune_idempotency_keys
        from photostudio.retention import Prunable, register_prunable

        register_prunable(Prunable("idempotency keys", prune_idempotency_keys))
        cache.connect()
