from django.dispatch import Signal

# Sent after the transaction that published an event commits; receivers get ``event_id`` and
# ``event_type``. For in-process subscribers such as cache invalidation.
event_committed = Signal()

# Sent inside the transaction that publishes an event, with the new ``event`` and the ``aggregate``
# it is about, as saved by the change (so a receiver need not read it again); for work that must
# follow the change at once, before the request that made it answers (cache invalidation).
# Receivers must neither fail nor write.
event_recorded = Signal()
