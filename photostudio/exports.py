"""Data the studio hands out: the datasets ops can export, and the CSV writer every CSV goes
through so none can carry a live spreadsheet formula.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)`` in a client's or space's name
becomes a clickable link that can leak the sheet). Such text cells get a leading apostrophe, which
the spreadsheet shows as plain text (OWASP's advice). Numbers are written as they are: a negative
amount stays a number.
"""

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: Any) -> Any:
    """``cell`` as a spreadsheet shows it as text: text starting a formula gets a leading apostrophe."""
    if isinstance(cell, str) and cell.startswith(FORMULA_TRIGGERS):
        return f"'{cell}"
    return cell


def restored(cell: str) -> str:
    """The text ``neutralised`` was given: reading back a CSV the studio wrote drops the apostrophe."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_TRIGGERS):
        return cell[1:]
    return cell


class _NeutralisingWriter:
    """``csv.writer`` whose rows are neutralised cell by cell."""

    def __init__(self, stream):
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralised(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream) -> _NeutralisingWriter:
    return _NeutralisingWriter(stream)


@dataclass(frozen=True)
class Dataset:
    """A kind of record ops can export (``manage.py export_data NAME``).

    ``rows(start, end)`` is a ``values_list`` queryset of the records whose time falls in
    ``[start, end)`` (either may be None), one tuple per record in ``columns`` order; the export
    streams it in chunks, so a million rows take constant memory.
    """

    name: str
    description: str
    columns: tuple[str, ...]
    rows: Callable[[datetime | None, datetime | None], QuerySet]


_datasets: dict[str, Dataset] = {}


def register_dataset(dataset: Dataset) -> None:
    """Offer ``dataset`` to ``export_data``; each app registers its own in ``AppConfig.ready``."""
    _datasets[dataset.name] = dataset


def datasets() -> dict[str, Dataset]:
    return dict(sorted(_datasets.items()))
