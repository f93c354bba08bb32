#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photostudio.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        sys.exit(f"Configuration error: {exc}")
    except DatabaseError as exc:
        # The database is down, full, refusing connections or not migrated: what the operator
        # needs is the driver's first line, not the stack of the command that met it (--traceback shows it).
        if "--traceback" in sys.argv:
            raise
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = " The database lacks migrations: run manage.py migrate." if _lacks_migrations(exc) else ""
        sys.exit(f"Database error: {reason.rstrip('.')}.{hint}")


def _lacks_migrations(error) -> bool:
    """Whether ``error`` came from a database that answers but has migrations to apply."""
    from django.db import DatabaseError, ProgrammingError

    from photostudio.health import unapplied_migrations

    # A missing table is PostgreSQL's ProgrammingError, SQLite's OperationalError. Other errors
    # (a database that does not answer) are not asked about: asking would wait for it again.
    if not (isinstance(error, ProgrammingError) or "no such table" in str(error)):
        return False
    try:
        return bool(unapplied_migrations())
    except DatabaseError:
        return False


if __name__ == "__main__":
    main()
