"""OpenAPI links between the booking operations, so a client (or Schemathesis' stateful tests)
knows that a new booking's id and its client's id feed the other operations."""

_FROM_BOOKING = {
    "GetBooking": ("bookings_retrieve", {"id": "$response.body#/id"}),
    "UpdateBooking": ("bookings_partial_update", {"id": "$response.body#/id"}),
    "ChangeBookingState": ("bookings_state", {"id": "$response.body#/id"}),
    "RescheduleBooking": ("bookings_reschedule", {"id": "$response.body#/id"}),
    "GetBookingHistory": ("bookings_history", {"id": "$response.body#/id"}),
    "GetClient": ("clients_retrieve", {"id": "$response.body#/client/id"}),
    "UpdateClient": ("clients_partial_update", {"id": "$response.body#/client/id"}),
    "GetClientHistory": ("clients_history", {"id": "$response.body#/client/id"}),
    "GetSpace": ("spaces_retrieve", {"slug": "$response.body#/space/slug"}),
}
# Operations answering a booking, and the status of that answer.
_BOOKING_ANSWERS = {
    "bookings_create": "201",
    "bookings_retrieve": "200",
    "bookings_partial_update": "200",
    "bookings_state": "200",
    "bookings_reschedule": "200",
}


def add_booking_links(result, generator, request, public):
    """drf-spectacular postprocessing hook: links from every answer carrying a booking."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            status = _BOOKING_ANSWERS.get(operation.get("operationId"))
            if status is None or status not in operation["responses"]:
                continue
            operation["responses"][status]["links"] = {
                name: {"operationId": target, "parameters": parameters}
                for name, (target, parameters) in _FROM_BOOKING.items()
            }
    return result
