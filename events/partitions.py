"""PostgreSQL only: ``events_event`` is range-partitioned by month of ``occurred_at``.

One partition per calendar month (UTC), named ``events_event_yYYYYmMM``, plus a default
partition that catches any row no month partition takes, so an insert never fails for want of a
partition. ``create_partitions`` (beat, and ``manage.py create_partitions``) adds the coming
months ahead of time; a month whose rows already sit in the default partition is moved out of
it when its partition is made. Everything here does nothing on other databases, where
``events_event`` is a plain table.

The primary key of a partitioned table must include the partition key, so it is
``(id, occurred_at)``; ``id`` stays unique through its sequence. No foreign key can reference
such a table by ``id`` alone, so ``Delivery.event`` is a foreign key without a database
constraint (``db_constraint=False``): Django still cascades deletes, and only the event services
write deliveries.
"""

from datetime import UTC, date, datetime

from django.db import connection, transaction

TABLE = "events_event"
DEFAULT_PARTITION = f"{TABLE}_default"


def is_partitioned() -> bool:
    """Whether ``events_event`` is a partitioned table in the current database."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [TABLE])
        return cursor.fetchone() is not None


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def months_between(first: date, last: date) -> list[date]:
    """The first days of the months from ``first``'s to ``last``'s, both included."""
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def existing_partitions() -> list[str]:
    """Names of the month partitions (not the default one), oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s) AND c.relname <> %s ORDER BY c.relname",
            [TABLE, DEFAULT_PARTITION],
        )
        return [row[0] for row in cursor.fetchall()]


def create_partitions(*, first: date, last: date) -> list[str]:
    """Make the month partitions from ``first``'s month to ``last``'s that do not exist yet and
    return their names; [] when all exist or the table is not partitioned. Idempotent."""
    if not is_partitioned():
        return []
    present = set(existing_partitions())
    return [
        name
        for month in months_between(first, last)
        if (name := partition_name(month)) not in present and _create_month(month, name)
    ]


def _create_month(month: date, name: str) -> bool:
    """Create the partition of ``month``, taking over the rows the default partition holds for it
    (PostgreSQL refuses to attach a range the default partition has rows of); False when another
    run (beat's, an operator's) made it meanwhile."""
    lower = datetime.combine(month, datetime.min.time(), tzinfo=UTC)
    upper = datetime.combine(next_month(month), datetime.min.time(), tzinfo=UTC)
    with transaction.atomic(), connection.cursor() as cursor:
        # One run at a time makes partitions; the second finds what the first made.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TABLE])
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{name}"'])
        if cursor.fetchone()[0]:
            return False
        cursor.execute(f'CREATE TABLE "{name}" (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
        cursor.execute(
            f'WITH moved AS (DELETE FROM "{DEFAULT_PARTITION}" WHERE occurred_at >= %s AND occurred_at < %s '
            f'RETURNING *) INSERT INTO "{name}" SELECT * FROM moved',
            [lower, upper],
        )
        # DDL takes no bound parameters (DATABASE_PREPARED_STATEMENTS): the bounds go in as literals.
        attach = f'ALTER TABLE {TABLE} ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)'
        cursor.execute(connection.ops.compose_sql(attach, [lower, upper]))
    return True


def create_partitions_ahead(*, months: int, today: date) -> list[str]:
    """Make sure ``today``'s month and the ``months`` after it have their partitions."""
    first = last = month_start(today)
    for _ in range(months):
        last = next_month(last)
    return create_partitions(first=first, last=last)


def _month_of(name: str) -> date:
    year, month = name.removeprefix(f"{TABLE}_y").split("m")
    return date(int(year), int(month), 1)


def drop_months_before(cutoff: datetime) -> int:
    """Drop the month partitions that end by ``cutoff`` with their events' deliveries, skipping a
    month that still holds an event waiting for dispatch (the outbox never loses work); returns
    how many events went. A whole month goes at once, however many rows it has. 0 when
    ``events_event`` is not partitioned."""
    if not is_partitioned():
        return 0
    dropped = 0
    for name in existing_partitions():
        if datetime.combine(next_month(_month_of(name)), datetime.min.time(), tzinfo=UTC) > cutoff:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'SELECT count(*), count(*) FILTER (WHERE dispatched_at IS NULL) FROM "{name}"')
            events, waiting = cursor.fetchone()
            if waiting:
                continue
            cursor.execute(f'DELETE FROM events_delivery WHERE event_id IN (SELECT id FROM "{name}")')
            cursor.execute(f'ALTER TABLE {TABLE} DETACH PARTITION "{name}"')
            cursor.execute(f'DROP TABLE "{name}"')
        dropped += events
    return dropped
