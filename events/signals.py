from django.dispatch import Signal

# Sent after the transaction that published an event commits; receivers get ``event_id`` and
# ``event_type``. For in-process subscribers such as cache invalidation.
event_committed = Signal()
