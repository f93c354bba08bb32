"""PostgreSQL only: ``events_event`` becomes a table range-partitioned by month of ``occurred_at``
(see ``events/partitions.py``), converted in place on a database that already holds events.

A new partitioned table gets the old one's columns, defaults and checks, a primary key of
``(id, occurred_at)`` (a partitioned table's unique keys must include its partition key), a
default partition and one partition per month from the oldest event to next month; the rows are
copied, the old table dropped and the new one takes its name, indexes and foreign keys. ``id``
keeps counting from where it was, now from a sequence owned by the column.

No foreign key can reference ``(id)`` alone any more, so ``Delivery.event`` first loses its
database constraint; Django still cascades deletes. Reversing turns the table back into a plain
one with a primary key on ``id`` and gives ``Delivery.event`` its constraint back. On SQLite
only the field change applies.
"""

from datetime import UTC, datetime

from django.db import migrations, models

from events.partitions import months_between, next_month, partition_name

TABLE = "events_event"


def _index_and_foreign_key_statements(cursor, table: str) -> list[str]:
    """What recreates ``table``'s secondary indexes and foreign keys under their names, on
    whichever table is called ``events_event`` when they run."""
    cursor.execute(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
        "AND indexname <> %s ORDER BY indexname",
        [table, f"{table}_pkey"],
    )
    statements = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(%s) "
        "AND contype = 'f' ORDER BY conname",
        [table],
    )
    statements += [
        f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}' for name, definition in cursor.fetchall()
    ]
    return statements


def partition_events(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        recreate = _index_and_foreign_key_statements(cursor, TABLE)
        cursor.execute(f"SELECT min(occurred_at), coalesce(max(id), 0) FROM {TABLE}")
        oldest, last_id = cursor.fetchone()
        now = datetime.now(UTC)
        first_month = (oldest or now).astimezone(UTC).date().replace(day=1)
        cursor.execute(
            f"CREATE TABLE {TABLE}_partitioned (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
            "PARTITION BY RANGE (occurred_at)"
        )
        # The old id default belongs to the old table (an identity, or a sequence it owns).
        cursor.execute(f"ALTER TABLE {TABLE}_partitioned ALTER COLUMN id DROP DEFAULT")
        cursor.execute(f"ALTER TABLE {TABLE}_partitioned ADD CONSTRAINT {TABLE}_new_pkey PRIMARY KEY (id, occurred_at)")
        cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE}_partitioned DEFAULT")
        for month in months_between(first_month, next_month(now.date())):
            # DDL takes no bound parameters (DATABASE_PREPARED_STATEMENTS): the bounds go in as literals.
            create = (
                f'CREATE TABLE "{partition_name(month)}" PARTITION OF {TABLE}_partitioned FOR VALUES FROM (%s) TO (%s)'
            )
            bounds = [
                datetime.combine(month, datetime.min.time(), tzinfo=UTC),
                datetime.combine(next_month(month), datetime.min.time(), tzinfo=UTC),
            ]
            cursor.execute(schema_editor.connection.ops.compose_sql(create, bounds))
        cursor.execute(f"INSERT INTO {TABLE}_partitioned SELECT * FROM {TABLE}")
        cursor.execute(f"DROP TABLE {TABLE}")
        cursor.execute(f"ALTER TABLE {TABLE}_partitioned RENAME TO {TABLE}")
        cursor.execute(f"ALTER TABLE {TABLE} RENAME CONSTRAINT {TABLE}_new_pkey TO {TABLE}_pkey")
        for statement in recreate:
            cursor.execute(statement)
        cursor.execute(f"CREATE SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
        cursor.execute(f"SELECT setval('{TABLE}_id_seq', %s, %s)", [max(last_id, 1), last_id > 0])
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")


def unpartition_events(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        recreate = _index_and_foreign_key_statements(cursor, TABLE)
        cursor.execute(f"CREATE TABLE {TABLE}_plain (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(f"INSERT INTO {TABLE}_plain SELECT * FROM {TABLE}")
        cursor.execute(f"ALTER SEQUENCE {TABLE}_id_seq OWNED BY NONE")
        cursor.execute(f"DROP TABLE {TABLE}")
        cursor.execute(f"ALTER TABLE {TABLE}_plain RENAME TO {TABLE}")
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)")
        cursor.execute(f"ALTER SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
        for statement in recreate:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("events", "0002_deliveries_and_webhooks")]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="event",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=models.deletion.CASCADE,
                related_name="deliveries",
                to="events.event",
            ),
        ),
        migrations.RunPython(partition_events, unpartition_events),
    ]
