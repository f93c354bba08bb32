from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self):
        from bookings import (
            day_lists,
            tasks,  # noqa: F401 - registers beat's warming task in every process
        )

        day_lists.connect()
