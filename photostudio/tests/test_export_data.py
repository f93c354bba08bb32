import csv
import json
import os
import stat
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, ManagementUtility, call_command

from bookings.tests.factories import MONDAY_10_UTC, BookingFactory, ClientFactory, SpaceFactory
from events.models import Event

pytestmark = pytest.mark.django_db


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_bookings_of_the_chosen_days_are_exported_as_csv(tmp_path, settings):
    settings.TIME_ZONE = "UTC"
    space = SpaceFactory(slug="studio_a")
    inside = BookingFactory(space=space, start=MONDAY_10_UTC)
    BookingFactory(space=space, start=datetime(2030, 1, 20, 10, tzinfo=UTC))
    output = tmp_path / "bookings.csv"
    call_command("export_data", "bookings", "--from", "2030-01-14", "--to", "2030-01-14", "--output", str(output))
    [row] = read_csv(output)
    assert row["id"] == str(inside.pk)
    # An E.164 "+…" would be read as a formula: it gets the neutralising apostrophe.
    assert (row["space"], row["client_phone"], row["state"]) == ("studio_a", f"'{inside.client.phone}", "pending")
    assert row["start"] == "2030-01-14T10:00:00+00:00"
    assert (row["price"], row["currency"]) == (str(inside.price), settings.STUDIO_CURRENCY)


def test_exported_csv_cells_cannot_run_as_formulas(tmp_path):
    ClientFactory(full_name='=HYPERLINK("http://evil.test")')
    output = tmp_path / "clients.csv"
    call_command("export_data", "clients", "--output", str(output))
    assert read_csv(output)[0]["name"] == '\'=HYPERLINK("http://evil.test")'


def test_events_are_exported_as_a_json_list_with_their_payload(tmp_path, settings):
    booking = BookingFactory()
    Event.objects.create(
        type="booking.created",
        aggregate_type="bookings.booking",
        aggregate_id=str(booking.pk),
        payload={"space": "studio_a"},
    )
    output = tmp_path / "events.json"
    call_command("export_data", "events", "--format", "json", "--output", str(output))
    [event] = json.loads(output.read_text())
    assert (event["type"], event["aggregate_id"], event["payload"]) == (
        "booking.created",
        str(booking.pk),
        {"space": "studio_a"},
    )


def test_an_empty_period_gives_a_file_with_only_the_header(tmp_path, capsys):
    output = tmp_path / "none.csv"
    call_command("export_data", "bookings", "--from", "2031-01-01", "--output", str(output))
    assert output.read_text().splitlines() == [
        "id,space,client_name,client_phone,photographer,start,end,state,people_count,price,currency,notes,created_at"
    ]
    assert "Wrote 0 bookings" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["bookings", "--from", "14/01/2030"], "'14/01/2030' is not a date"),
        (["bookings", "--to", "9999-12-31"], "outside the calendar. Give a date from 2000-01-01 to 2099-12-31"),
        (["bookings", "--from", "2030-02-01", "--to", "2030-01-01"], "--to is before --from"),
        (["payments"], "invalid choice: 'payments'"),
    ],
)
def test_bad_arguments_are_refused_and_write_nothing(tmp_path, arguments, message):
    output = tmp_path / "out.csv"
    with pytest.raises(CommandError, match=message):
        call_command("export_data", *arguments, "--output", str(output))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("14/01/2030", "is not a date"),
        ("9999-12-31", "outside the calendar. Give a date from 2000-01-01 to 2099-12-31"),
    ],
)
def test_a_bad_day_on_the_command_line_is_a_usage_error_not_a_traceback(tmp_path, capsys, day, message):
    argv = ["manage.py", "export_data", "bookings", "--to", day, "--output", str(tmp_path / "out.csv")]

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(argv).execute()

    assert exited.value.code == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(CommandError, match="There is no folder"):
        call_command("export_data", "clients", "--output", str(tmp_path / "missing" / "clients.csv"))


def test_a_folder_given_as_the_file_is_refused_before_anything_is_exported(tmp_path):
    BookingFactory()

    with pytest.raises(CommandError, match="is a folder: give the file to write"):
        call_command("export_data", "bookings", "--output", str(tmp_path))

    assert list(tmp_path.iterdir()) == []
    assert not (tmp_path.parent / f".{tmp_path.name}.partial").exists()


def test_a_file_that_cannot_be_written_is_refused_and_leaves_nothing_behind(tmp_path):
    too_long = tmp_path / ("clients" * 40 + ".csv")  # beyond the 255 bytes a file name may have

    with pytest.raises(CommandError, match="Cannot write"):
        call_command("export_data", "clients", "--output", str(too_long))

    assert list(tmp_path.iterdir()) == []


def test_a_device_or_pipe_given_as_the_file_is_refused_and_left_in_place(tmp_path):
    pipe = tmp_path / "export.fifo"
    os.mkfifo(pipe)

    with pytest.raises(CommandError, match="is not a regular file"):
        call_command("export_data", "clients", "--output", str(pipe))

    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["export.fifo"]


def test_an_export_running_at_once_to_the_same_file_is_left_alone(tmp_path):
    # Another run (a cron job overlapping a hand-run one) writing its unfinished file beside the target.
    ClientFactory(full_name="Ada")
    output = tmp_path / "clients.csv"
    others_unfinished = tmp_path / ".clients.csv.partial"
    others_unfinished.write_text("name\nfrom the other run\n")

    call_command("export_data", "clients", "--output", str(output))

    assert others_unfinished.read_text() == "name\nfrom the other run\n"
    assert [row["name"] for row in read_csv(output)] == ["Ada"]
