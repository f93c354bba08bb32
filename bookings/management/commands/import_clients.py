import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from bookings.services import import_clients
from employees.management.arguments import operator_named
from photostudio.errors import DomainError
from photostudio.exports import restored

COLUMNS = ("name", "phone", "email", "notes")
REQUIRED_COLUMNS = ("name", "phone")


def _rows(reader: csv.DictReader, refused: list[tuple[int, str]]):
    """(line number, row) for each record, the line being where the record ends in the file; cells
    as the studio's own exports neutralised them (``'+1415…``) read as they were. A record with
    more cells than the header names (an unquoted comma in a note) goes to ``refused``: read, its
    last cells would be lost."""
    for record in reader:
        if reader.restkey in record:
            named = len(reader.fieldnames)
            refused.append(
                (
                    reader.line_num,
                    f"{named + len(record[reader.restkey])} cells where the header names {named}; "
                    "put a cell that holds a comma in double quotes",
                )
            )
            continue
        yield reader.line_num, {column: restored((record.get(column) or "").strip()) for column in COLUMNS}


class Command(BaseCommand):
    help = (
        "Import clients from a CSV file with a header row: name, phone, email, notes (email and notes "
        "may be left out). By default a dry run: every bad row is reported by line number and why, "
        "nothing is saved. --commit registers the good rows. A phone already known is skipped, so "
        "running it again changes nothing (one client per phone)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv", help="UTF-8 CSV (a spreadsheet's 'CSV UTF-8' export).")
        parser.add_argument("--commit", action="store_true", help="Save the good rows (default: dry run).")
        parser.add_argument(
            "--operator", required=True, metavar="USERNAME", help="You: recorded as who registered the clients."
        )

    def handle(self, *args, file, commit, operator, **options):
        path = Path(file)
        actor = operator_named(operator)
        try:
            stream = path.open(newline="", encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(f"There is no file {path}.") from None
        except OSError as exc:  # a folder, a file it may not read
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        try:
            with stream:
                reader = csv.DictReader(stream)
                self._check_header(reader.fieldnames)
                refused = []
                rows = tqdm(_rows(reader, refused), unit=" rows", disable=None)
                result = import_clients(rows=rows, actor=actor, commit=commit)
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text ({exc.reason}); save it as 'CSV UTF-8'.") from None
        except csv.Error as exc:
            raise CommandError(f"{path} is not a readable CSV file: {exc}.") from None
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        problems = sorted(refused + result.problems)
        for line, why in problems:
            self.stderr.write(f"line {line}: {why}")
        summary = (
            f"{len(result.new)} new client(s), {len(result.known_lines)} already known (skipped), "
            f"{len(problems)} bad row(s)."
        )
        if commit:
            self.stdout.write(self.style.SUCCESS(f"Imported: {summary}"))
        else:
            self.stdout.write(f"Dry run, nothing saved: {summary} Run again with --commit to import the new ones.")
        if problems:
            raise CommandError(f"{len(problems)} row(s) were refused; see the lines above.")

    def _check_header(self, header: list[str] | None) -> None:
        if not header:
            raise CommandError("The file is empty: the first line must name the columns (name,phone,email,notes).")
        repeated = sorted({column for column in header if column in COLUMNS and header.count(column) > 1})
        if repeated:
            # The reader keeps the last of them: the others' cells would be lost.
            raise CommandError(
                f"The header names {', '.join(repeated)} more than once; "
                "keep one column of each name and merge the others."
            )
        missing = [column for column in REQUIRED_COLUMNS if column not in header]
        if missing:
            raise CommandError(
                f"The header has no {', '.join(missing)} column; it reads {','.join(header)!r} "
                "and must name name,phone (email,notes optional)."
            )
