"""OpenAPI links from every answer carrying a booking to its client's and its space's operations
(``photostudio.openapi.add_links`` links a booking to the operations on it), and the request
bodies its state change and reschedule links send: the booking's first allowed transition, and
its own times, so a client following them makes a change the studio accepts."""

_FROM_BOOKING = {
    "clients_retrieve": {"id": "$response.body#/client/id"},
    "clients_partial_update": {"id": "$response.body#/client/id"},
    "clients_history": {"id": "$response.body#/client/id"},
    "spaces_retrieve": {"slug": "$response.body#/space/slug"},
    "spaces_free_slots": {"slug": "$response.body#/space/slug"},
}
_LINK_BODIES = {
    "bookings_state": {"target_state": "$response.body#/allowed_transitions/0/target_state"},
    "bookings_reschedule": {"start_time": "$response.body#/start_time", "end_time": "$response.body#/end_time"},
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
    """drf-spectacular postprocessing hook."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            status = _BOOKING_ANSWERS.get(operation["operationId"])
            if status is None or status not in operation["responses"]:
                continue
            links = operation["responses"][status].setdefault("links", {})
            for target, parameters in _FROM_BOOKING.items():
                links[target] = {"operationId": target, "parameters": parameters}
            for target, body in _LINK_BODIES.items():
                if target in links:
                    links[target]["requestBody"] = body
    return result
