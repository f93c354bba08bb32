"""OpenAPI links from every answer carrying a booking (a list: its first) to its client's and its
space's operations (``photostudio.openapi.add_links`` links a booking to the operations on it),
and the request bodies its state change and reschedule links send: the booking's first allowed
transition with a reason (which a cancellation needs), and its own times, so a client following
them makes a change the studio accepts."""

_FROM_BOOKING = {
    "clients_retrieve": {"id": "client/id"},
    "clients_partial_update": {"id": "client/id"},
    "clients_history": {"id": "client/id"},
    "spaces_retrieve": {"slug": "space/slug"},
    "spaces_free_slots": {"slug": "space/slug"},
}
_LINK_BODIES = {
    "bookings_state": {"target_state": "allowed_transitions/0/target_state"},
    "bookings_reschedule": {"start_time": "start_time", "end_time": "end_time"},
}
_LINK_LITERALS = {"bookings_state": {"reason": "Followed the link from the booking"}}
# Operations answering a booking: the status of that answer and where in its body the booking is.
_BOOKING_ANSWERS = {
    "bookings_list": ("200", "/results/0"),
    "bookings_create": ("201", ""),
    "bookings_retrieve": ("200", ""),
    "bookings_partial_update": ("200", ""),
    "bookings_state": ("200", ""),
    "bookings_reschedule": ("200", ""),
}


def add_booking_links(result, generator, request, public):
    """drf-spectacular postprocessing hook."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            status, booking = _BOOKING_ANSWERS.get(operation["operationId"], (None, ""))
            if status not in operation["responses"]:
                continue

            def pointer(field, booking=booking):
                return f"$response.body#{booking}/{field}"

            links = operation["responses"][status].setdefault("links", {})
            for target, parameters in _FROM_BOOKING.items():
                links[target] = {
                    "operationId": target,
                    "parameters": {name: pointer(field) for name, field in parameters.items()},
                }
            for target, body in _LINK_BODIES.items():
                if target in links:
                    links[target]["requestBody"] = {
                        **{name: pointer(field) for name, field in body.items()},
                        **_LINK_LITERALS.get(target, {}),
                    }
    return result
