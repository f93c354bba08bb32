import pytest
from django.core.management import CommandError, call_command

from bookings.models import Client
from bookings.tests.factories import ClientFactory
from employees.models import Role
from employees.tests.factories import EmployeeFactory
from events.models import Event

pytestmark = pytest.mark.django_db

GOOD_AND_BAD = """name,phone,email,notes
Ada Lovelace,+44 20 7946 0018,ada@client.test,Prefers mornings
Grace Hopper,+1 415 555 0199,,
,+1 415 555 0100,nobody@client.test,
Alan Turing,not a phone,alan@client.test,
Edsger Dijkstra,+1 415 555 0101,edsger-at-home,
Barbara Liskov,+1 (415) 555-0199,barbara@client.test,same phone as Grace
"""


@pytest.fixture
def desk():
    return EmployeeFactory(username="desk", role=Role.RECEPTIONIST)


@pytest.fixture
def csv_file(tmp_path):
    def write(text, name="clients.csv", encoding="utf-8"):
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return str(path)

    return write


def test_a_dry_run_reports_every_bad_row_by_line_and_saves_nothing(desk, csv_file, capsys):
    with pytest.raises(CommandError, match="4 row"):
        call_command("import_clients", csv_file(GOOD_AND_BAD), "--operator", "desk")
    out, err = capsys.readouterr()
    assert "Dry run, nothing saved: 2 new client(s), 0 already known (skipped), 4 bad row(s)." in out
    problems = err.splitlines()
    assert problems[0].startswith("line 4: full_name:")
    assert problems[1].startswith("line 5: phone:")
    assert problems[2].startswith("line 6: email:")
    assert problems[3] == "line 7: phone +14155550199 is already on line 3"
    assert not Client.objects.exists()


def test_commit_imports_the_good_rows_and_records_each_client(desk, csv_file):
    with pytest.raises(CommandError):
        call_command("import_clients", csv_file(GOOD_AND_BAD), "--commit", "--operator", "desk")
    ada = Client.objects.get(phone="+442079460018")
    assert (ada.full_name, ada.email, ada.notes, ada.created_by) == (
        "Ada Lovelace",
        "ada@client.test",
        "Prefers mornings",
        desk,
    )
    assert Client.objects.count() == 2
    created = Event.objects.filter(type="client.created")
    assert created.count() == 2
    assert {event.actor for event in created} == {desk}


def test_importing_the_same_file_again_changes_nothing(desk, csv_file, capsys):
    path = csv_file("name,phone\nAda Lovelace,+44 20 7946 0018\nGrace Hopper,+1 415 555 0199\n")
    call_command("import_clients", path, "--commit", "--operator", "desk")
    call_command("import_clients", path, "--commit", "--operator", "desk")
    assert "0 new client(s), 2 already known (skipped), 0 bad row(s)" in capsys.readouterr().out.splitlines()[-1]
    assert Client.objects.count() == 2
    assert Event.objects.filter(type="client.created").count() == 2


def test_a_known_phone_keeps_its_client_as_it_is(desk, csv_file):
    known = ClientFactory(full_name="Grace M. Hopper", phone="+14155550199")
    call_command(
        "import_clients", csv_file("name,phone\nGrace Hopper,+1 415 555 0199\n"), "--commit", "--operator", "desk"
    )
    known.refresh_from_db()
    assert known.full_name == "Grace M. Hopper"


def test_an_operator_who_may_not_register_clients_is_refused(csv_file):
    EmployeeFactory(username="pete", role=Role.PHOTOGRAPHER)
    with pytest.raises(CommandError, match="register new clients"):
        call_command("import_clients", csv_file("name,phone\nAda,+442079460018\n"), "--commit", "--operator", "pete")
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "The file is empty"),
        ("full name,telephone\nAda,+442079460018\n", "The header has no name, phone column"),
    ],
)
def test_a_file_without_the_columns_is_refused(desk, csv_file, content, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_clients", csv_file(content), "--operator", "desk")


def test_a_header_naming_a_column_twice_is_refused_rather_than_one_of_them_read(desk, csv_file):
    content = "name,phone,notes,notes\nAda Lovelace,+442079460018,Prefers mornings,VIP\n"

    with pytest.raises(CommandError, match="The header names notes more than once"):
        call_command("import_clients", csv_file(content), "--commit", "--operator", "desk")

    assert not Client.objects.exists()


def test_a_file_that_is_not_utf8_is_refused(desk, csv_file):
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command(
            "import_clients", csv_file("name,phone\nJosé,+34600000000\n", encoding="latin-1"), "--operator", "desk"
        )


def test_a_missing_file_is_refused(desk, tmp_path):
    with pytest.raises(CommandError, match="There is no file"):
        call_command("import_clients", str(tmp_path / "nope.csv"), "--operator", "desk")


def test_a_folder_given_as_the_file_is_refused(desk, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_clients", str(tmp_path), "--operator", "desk")


def test_a_control_character_in_a_row_is_refused_by_line_as_in_every_form(desk, csv_file, capsys):
    content = (
        "name,phone,notes\n"
        "Ada\x00Lovelace,+44 20 7946 0018,\n"
        'Grace Hopper,+1 415 555 0199,"Call first\x1b[2J"\n'
        'Alan Turing,+1 415 555 0100,"Two lines:\tdogs\nand a cat"\n'
    )

    with pytest.raises(CommandError, match="2 row"):
        call_command("import_clients", csv_file(content), "--commit", "--operator", "desk")

    problems = capsys.readouterr().err.splitlines()
    assert problems[0].startswith("line 2: full_name: Remove the control character U+0000")
    assert problems[1].startswith("line 3: notes: Remove the control character U+001B")
    assert list(Client.objects.values_list("full_name", "notes")) == [("Alan Turing", "Two lines:\tdogs\nand a cat")]


def test_notes_longer_than_every_form_takes_are_refused_by_line(desk, csv_file, capsys):
    # Imported, they would make the client's edit page refuse every change until cut short.
    content = (
        f"name,phone,notes\nAda Lovelace,+44 20 7946 0018,{'x' * 5000}\nGrace Hopper,+1 415 555 0199,{'x' * 5001}\n"
    )

    with pytest.raises(CommandError, match="1 row"):
        call_command("import_clients", csv_file(content), "--commit", "--operator", "desk")

    assert capsys.readouterr().err.startswith("line 3: notes: Ensure this value has at most 5000 characters")
    assert list(Client.objects.values_list("full_name", flat=True)) == ["Ada Lovelace"]


def test_a_row_with_more_cells_than_the_header_is_refused_not_cut_short(desk, csv_file, capsys):
    content = (
        "name,phone,email,notes\n"
        "Ada Lovelace,+44 20 7946 0018,ada@client.test,Prefers mornings, never Mondays\n"
        "Grace Hopper,+1 415 555 0199,,\n"
    )

    with pytest.raises(CommandError, match="1 row"):
        call_command("import_clients", csv_file(content), "--commit", "--operator", "desk")

    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "line 2: 5 cells where the header names 4; put a cell that holds a comma in double quotes"
    ]
    assert "1 new client(s), 0 already known (skipped), 1 bad row(s)." in out
    assert list(Client.objects.values_list("full_name", flat=True)) == ["Grace Hopper"]


def test_a_client_export_imports_back_unchanged(desk, tmp_path):
    ClientFactory(full_name="Ada Lovelace", phone="+442079460018", email="ada@client.test", notes="-- call first")
    exported = tmp_path / "clients.csv"
    call_command("export_data", "clients", "--output", str(exported))
    Client.objects.all().delete()
    call_command("import_clients", str(exported), "--commit", "--operator", "desk")
    ada = Client.objects.get()
    assert (ada.full_name, ada.phone, ada.email, ada.notes) == (
        "Ada Lovelace",
        "+442079460018",
        "ada@client.test",
        "-- call first",
    )
