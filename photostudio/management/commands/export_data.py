import json
import os
import tempfile
from argparse import ArgumentTypeError
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from photostudio.exports import Dataset, csv_writer, datasets
from photostudio.inputs import OUT_OF_CALENDAR_MESSAGE, in_calendar

CHUNK_SIZE = 2000


def _day(text: str) -> date:
    """argparse's ``type`` for --from and --to. It raises ArgumentTypeError, which the parser turns
    into its usage message and exit 2: a CommandError raised while parsing escapes
    ``run_from_argv``'s handling as a traceback."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"'{text}' is not a date: write it as YYYY-MM-DD.") from None
    if not in_calendar(day):  # the API's span: a typo such as 0202 or 20255 is refused, not run
        raise ArgumentTypeError(f"'{text}' is outside the calendar. {OUT_OF_CALENDAR_MESSAGE}")
    return day


@contextmanager
def _refused_when_unwritable(target: Path):
    """An error of the file system (a folder it may not write in, a name too long, a full disk)
    as the command's error."""
    try:
        yield
    except OSError as exc:
        raise CommandError(f"Cannot write {target}: {exc.strerror}.") from None


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class Command(BaseCommand):
    help = (
        "Export bookings, clients or events of a period to a CSV or JSON file, streamed from the "
        "database in chunks (constant memory at any size). Dates are the studio's local days, both "
        "included; without them the whole history is exported. The file appears only once complete."
    )

    def add_arguments(self, parser):
        parser.add_argument("dataset", choices=list(datasets()), help="What to export.")
        parser.add_argument("--from", dest="first_day", type=_day, metavar="YYYY-MM-DD", help="First day included.")
        parser.add_argument("--to", dest="last_day", type=_day, metavar="YYYY-MM-DD", help="Last day included.")
        parser.add_argument("--format", choices=["csv", "json"], default="csv", help="csv (default) or json.")
        parser.add_argument(
            "--output", required=True, metavar="FILE", help="Where to write; an existing file is replaced."
        )

    def handle(self, *args, dataset, first_day, last_day, format, output, **options):
        if first_day and last_day and last_day < first_day:
            raise CommandError("--to is before --from.")
        target = Path(output)
        with _refused_when_unwritable(target):
            if not target.parent.is_dir():
                raise CommandError(f"There is no folder {target.parent} to write {target.name} into.")
            if target.is_dir():
                raise CommandError(
                    f"{target} is a folder: give the file to write, e.g. {target / f'{dataset}.{format}'}."
                )
            # The finished export replaces the target: a device or a pipe (/dev/stdout) would be
            # replaced by a plain file, not written to.
            if target.exists() and not target.is_file():
                raise CommandError(f"{target} is not a regular file; give the path of a file to write.")
            chosen = datasets()[dataset]
            rows = chosen.rows(
                _midnight(first_day) if first_day else None,
                _midnight(last_day + timedelta(days=1)) if last_day else None,
            )
            total = rows.count()
            # A name of its own (created exclusively, readable by its owner only): another export
            # to the same file at the same time writes its own, and each replaces the target whole.
            descriptor, partial_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
            partial = Path(partial_name)
            try:
                with open(descriptor, "w", newline="", encoding="utf-8") as stream:
                    records = tqdm(rows.iterator(chunk_size=CHUNK_SIZE), total=total, unit=" rows", disable=None)
                    (self._write_csv if format == "csv" else self._write_json)(stream, chosen, records)
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
        self.stdout.write(self.style.SUCCESS(f"Wrote {total} {chosen.description} to {target} ({format})."))

    def _write_csv(self, stream, dataset: Dataset, records) -> None:
        writer = csv_writer(stream)
        writer.writerow(dataset.columns)
        for record in records:
            writer.writerow(json.dumps(value) if isinstance(value, dict) else _plain(value) for value in record)

    def _write_json(self, stream, dataset: Dataset, records) -> None:
        stream.write("[")
        for index, record in enumerate(records):
            stream.write(",\n" if index else "\n")
            stream.write(json.dumps(dict(zip(dataset.columns, map(_plain, record), strict=True))))
        stream.write("\n]\n")
