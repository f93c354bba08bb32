"""CSV exports never hand a spreadsheet a live formula, whichever part of the studio writes them."""

import io
import re
from pathlib import Path

import pytest
from django.conf import settings

from photostudio.exports import csv_writer


def written(row):
    stream = io.StringIO()
    csv_writer(stream).writerow(row)
    return stream.getvalue()


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+41 79 000 00 00", "'+41 79 000 00 00"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", '"\'\r=1+1"'),
    ],
)
def test_text_that_starts_a_formula_is_written_as_text(cell, expected):
    assert written([cell]) == f"{expected}\r\n"


def test_plain_text_and_numbers_are_written_unchanged():
    assert written(["Studio A", -12, "a=b", "", None]) == "Studio A,-12,a=b,,\r\n"


def test_every_csv_in_the_project_is_written_through_the_neutralising_writer():
    writers = re.compile(r"\bcsv\.(writer|DictWriter)\(")
    root = Path(settings.BASE_DIR)
    sources = [
        path
        for path in root.rglob("*.py")
        if ".venv" not in path.parts and "tests" not in path.parts and path != root / "photostudio" / "exports.py"
    ]

    offenders = [str(path.relative_to(root)) for path in sources if writers.search(path.read_text())]

    assert offenders == []
