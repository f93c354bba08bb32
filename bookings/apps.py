from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self):
        from bookings import (
            day_lists,
            reports,
            selectors,
            tasks,  # noqa: F401 - registers beat's tasks (warming, analytics) in every process
        )
        from photostudio.exports import Dataset, register_dataset

        day_lists.connect()
        reports.connect()
        register_dataset(
            Dataset(
                name="bookings",
                description="bookings that start in the period",
                columns=selectors.BOOKING_EXPORT_COLUMNS,
                rows=selectors.bookings_for_export,
            )
        )
        register_dataset(
            Dataset(
                name="clients",
                description="clients registered in the period",
                columns=selectors.CLIENT_EXPORT_COLUMNS,
                rows=selectors.clients_for_export,
            )
        )
