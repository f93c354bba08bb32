"""Simultaneous calls, each on its own thread and database connection, as two clerks in two browsers."""

import threading

from django.conf import settings
from django.db import connection


def run_at_once(calls: list) -> list:
    """Run each call in its own thread and connection, released together; returns each one's
    result, or the exception it raised (the outcome under test)."""
    assert len(calls) <= settings.CONCURRENT_CALLS_MAX, "raise CONCURRENT_CALLS_MAX in photostudio/settings_test.py"
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as exc:  # the outcome under test
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes
