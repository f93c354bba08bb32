"""Switch the Celery app's options for a block of a test, whatever other tests left behind."""

from contextlib import contextmanager

from photostudio.celery import app as celery_app

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


def _forget_broker_connections():
    # Celery keeps pools of broker connections per app; drop them so the next send connects to
    # the broker configured now.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def celery_options(**options):
    """Set Celery ``options`` in the app's own configuration layer, which wins over Django's
    settings, and put back what that layer held before."""
    changes = celery_app.conf.changes
    saved = {key: changes[key] for key in options if key in changes}
    celery_app.conf.update(options)
    _forget_broker_connections()
    try:
        yield
    finally:
        for key in options:
            if key in saved:
                changes[key] = saved[key]
            else:
                changes.pop(key, None)
        _forget_broker_connections()
        if "task_routes" in options:
            # Setting task_routes rebuilds Celery's router; putting the old value back must too.
            celery_app.amqp.flush_routes()
            celery_app.amqp.router = celery_app.amqp.Router()


def broker_unreachable():
    """Celery sends to a broker nobody listens on, as when Redis is down at commit time."""
    return celery_options(task_always_eager=False, broker_url=UNREACHABLE_BROKER)
