from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self):
        from bookings import tasks  # noqa: F401 - registers the analytics refresh that beat schedules
