"""CSV files the studio hands out. Every CSV is written through ``csv_writer`` so none can carry a
live spreadsheet formula.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)`` in a client's or space's name
becomes a clickable link that can leak the sheet). Such text cells get a leading apostrophe, which
the spreadsheet shows as plain text (OWASP's advice). Numbers are written as they are: a negative
amount stays a number.
"""

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: Any) -> Any:
    """``cell`` as a spreadsheet shows it as text: text starting a formula gets a leading apostrophe."""
    if isinstance(cell, str) and cell.startswith(FORMULA_TRIGGERS):
        return f"'{cell}"
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
