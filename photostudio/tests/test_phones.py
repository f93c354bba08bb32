import pytest
from django.core.exceptions import ValidationError

from photostudio.phones import normalise_phone


def test_guide_example_number_is_accepted_as_written():
    assert normalise_phone("+1234567890") == "+1234567890"


def test_international_number_is_stored_as_e164():
    assert normalise_phone("+44 20 7946 0958") == "+442079460958"


def test_formatting_around_an_unknown_range_is_removed():
    assert normalise_phone("+1 (234) 567-890") == "+1234567890"


@pytest.mark.parametrize("raw", ["+1٢٣٤٥٦٧٨٩٠", "+1 ２３４ ５６７ ８９０", "+1 (२३४) ५६७-८९०"])
def test_an_unknown_range_typed_in_other_digits_is_stored_in_ascii_digits(raw):
    # Else one number would be two clients, and no search by its digits would find it.
    assert normalise_phone(raw) == "+1234567890"


@pytest.mark.parametrize("raw", ["+1 415 555 0123 ext. 12", "(415) 555-0123 x12", "+1 415 555 0123;ext=12"])
def test_a_number_with_an_extension_is_refused_rather_than_read_without_it(raw):
    # Read as +14155550123, it would be the client who has that number: a booking for them.
    with pytest.raises(ValidationError, match="extension") as refused:
        normalise_phone(raw)

    assert refused.value.code == "invalid_phone"


def test_number_without_plus_is_read_in_the_default_region():
    assert normalise_phone("(202) 555-0123") == "+12025550123"


def test_default_region_comes_from_settings(settings):
    settings.PHONE_DEFAULT_REGION = "DE"

    assert normalise_phone("030 1234567") == "+49301234567"


def test_a_number_read_before_is_read_again_in_a_changed_region(settings):
    settings.PHONE_DEFAULT_REGION = "DE"
    assert normalise_phone("030 1234567") == "+49301234567"

    settings.PHONE_DEFAULT_REGION = "FR"
    assert normalise_phone("030 1234567") == "+33301234567"

    settings.PHONE_DEFAULT_REGION = "US"
    with pytest.raises(ValidationError):
        normalise_phone("030 1234567")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "call me",
        "555-1234",  # not a whole number in the default region
        "+12",  # too short for E.164
        "+1234567890123456",  # too long for E.164
        "+0123456789",  # no country code starts with 0
    ],
)
def test_unusable_number_is_refused(raw):
    with pytest.raises(ValidationError):
        normalise_phone(raw)
