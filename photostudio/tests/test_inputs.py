from datetime import date, time

import pytest

from bookings.forms import ClientForm
from bookings.models import Client
from photostudio.inputs import control_character_errors, skipped_time_error

VALID = {"full_name": "Ada Lovelace", "phone": "+44 20 7946 0018", "email": "ada@client.test", "notes": ""}


@pytest.mark.parametrize("field", list(VALID))
@pytest.mark.parametrize("text", ["two\tcolumns", "two\nlines", "nul\x00", "escape\x1b[2J", "bell\x07"])
def test_a_model_instance_is_held_to_the_text_rule_of_its_form(field, text):
    form = ClientForm(data=VALID | {field: text})
    form.is_valid()
    refused_by_the_form = [message for message in form.errors.get(field, []) if "control character" in message]

    assert control_character_errors(Client(**VALID | {field: text})).get(field, []) == refused_by_the_form


def test_a_model_instance_with_plain_text_has_no_errors():
    assert control_character_errors(Client(**VALID | {"notes": "Call first.\nThen e-mail."})) == {}


def test_a_time_the_clocks_skip_names_the_change_of_its_zone(settings):
    settings.TIME_ZONE = "Australia/Lord_Howe"  # half an hour forward at 02:00 on Sunday 6 October 2030

    assert skipped_time_error(date(2030, 10, 6), time(2, 10)).messages == [
        "02:10 does not exist on Sun 6 Oct 2030: the clocks go forward from 02:00 to 02:30 that night. "
        "Choose a time before 02:00 or from 02:30 on."
    ]
    assert skipped_time_error(date(2030, 10, 6), time(2, 30)) is None
    assert skipped_time_error(date(2030, 10, 5), time(2, 10)) is None


def test_a_day_the_clocks_skip_whole_is_said_not_to_exist(settings):
    settings.TIME_ZONE = "Pacific/Apia"  # Samoa went from UTC-10 to UTC+14 at the end of 29 December 2011

    assert skipped_time_error(date(2011, 12, 30), time(10, 0)).messages == [
        "Fri 30 Dec 2011 does not exist on the studio's clock (Pacific/Apia): it goes from Thu 29 Dec 2011, "
        "23:59 straight to Sat 31 Dec 2011, 00:00. Choose another date."
    ]
    assert skipped_time_error(date(2011, 12, 29), time(23, 59)) is None
    assert skipped_time_error(date(2011, 12, 31), time(0, 0)) is None
