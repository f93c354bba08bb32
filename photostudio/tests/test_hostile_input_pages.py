"""Every form of the staff pages and the admin refuses control characters in its text and dates
outside 2000-2099 with a form error on the field, never a 500. The pages come from the URLconf and
the admin's registry, and their forms from the pages themselves, so a new form is fed the same
input without anyone adding it here."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth.tokens import default_token_generator
from django.forms import BaseForm
from django.test import Client as Browser
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from bookings.models import BookingState
from bookings.tests.api import install_default_spaces
from bookings.tests.factories import (
    MONDAY_10_UTC,
    BookingFactory,
    BookingSeriesFactory,
    ClientFactory,
    PhotographerFactory,
    WaitlistEntryFactory,
)
from employees import calendar_feed
from employees.models import Role, SignIn
from employees.tests.factories import EmployeeFactory, verified_login
from events.tests.factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db

TEXT_INPUT_TYPES = {"text", "tel", "email", "search", "url"}
HOSTILE_TEXT = {"NUL": "Nina\x00Novak", "ESC": "Nina\x1bNovak"}
EXTREME_DAYS = ("9999-12-31", "0001-01-01")
# Pages of the studio's own URLconf that hold no form a person fills in.
NOT_PAGES = ("api/", "admin/", "health", "metrics", "docs", "redoc")


class _Forms(HTMLParser):
    """The forms of a page: action, method and each named field with the value it would send."""

    def __init__(self):
        super().__init__()
        self.forms, self._select, self._textarea = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "method": (attrs.get("method") or "get").lower()})
            self.forms[-1]["fields"] = []
        elif not self.forms or "name" not in attrs and tag != "option":
            return
        elif tag == "input" and attrs.get("type", "text") not in ("submit", "button", "file", "image"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.forms[-1]["fields"].append([attrs["name"], kind, attrs.get("value") or ""])
        elif tag == "textarea":
            self._textarea = [attrs["name"], "textarea", ""]
            self.forms[-1]["fields"].append(self._textarea)
        elif tag == "select":
            self._select = [attrs["name"], "select", None]
            self.forms[-1]["fields"].append(self._select)
        elif tag == "option" and self._select is not None and (self._select[2] is None or "selected" in attrs):
            self._select[2] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[2] += data


def forms_of(response) -> list[dict]:
    parser = _Forms()
    parser.feed(response.content.decode())
    return [form for form in parser.forms if form["fields"]]


def errors_shown(response) -> dict:
    """The field errors of the forms the page shows (the admin's inside its ``adminform``)."""
    shown = {}
    for context in response.context or []:
        for value in context.flatten().values():
            form = getattr(value, "form", value)
            if isinstance(form, BaseForm) and form.is_bound:
                shown.update(form.errors)
    return shown


def _patterns(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern).lstrip("^").rstrip("$")
        if isinstance(entry, URLResolver):
            if not route.startswith(NOT_PAGES):
                yield from _patterns(entry, route)
        elif isinstance(entry, URLPattern) and entry.name and not route.startswith(NOT_PAGES):
            yield entry.name, route


@pytest.fixture
def studio():
    """A manager signed in (with their second factor) and something for every page to show."""
    with time_machine.travel(MONDAY_10_UTC - timedelta(days=3), tick=False):
        install_default_spaces()
        manager = EmployeeFactory(role=Role.MANAGER)
        PhotographerFactory()
        client = ClientFactory()
        # One date of a series, so that the booking page shows the series' form too.
        booking = BookingFactory(
            client=client, start=MONDAY_10_UTC, state=BookingState.PENDING, series=BookingSeriesFactory(client=client)
        )
        entry = WaitlistEntryFactory(client=client, space=booking.space, start=MONDAY_10_UTC)
        WebhookEndpointFactory()
        browser = Browser()
        verified_login(browser, manager)
        sign_in = SignIn.objects.filter(employee=manager).first()
        arguments = {
            "booking": {"pk": booking.pk},
            "client": {"pk": client.pk},
            "series": {"pk": booking.series_id},
            "waitlist": {"pk": entry.pk},
            "sign-in": {"pk": sign_in.pk if sign_in else 1},
            "calendar-feed": {"token": calendar_feed.token_for(manager.calendar_feed_key)},
            "password_reset_confirm": {
                "uidb64": urlsafe_base64_encode(force_bytes(manager.pk)),
                "token": default_token_generator.make_token(manager),
            },
        }
        yield browser, arguments


def _page_urls(arguments):
    urls = []
    for name, route in _patterns():
        if "<" not in route:
            urls.append(reverse(name))
            continue
        kwargs = arguments.get(name) or next((value for key, value in arguments.items() if name.startswith(key)), None)
        assert kwargs is not None, f"the test does not know what to give {name} ({route}): add it to studio()"
        urls.append(reverse(name, kwargs=kwargs))
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_add".format(*info)))
        first = model._default_manager.first()
        if first is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
    return urls


def _forms_to_feed(browser, arguments):
    """(visitor, page, form) for every form on every page the manager can open (the admin's add and
    change pages of the models they may edit), and on the pages seen signed out."""
    signed_out = Browser()
    found = []
    for url in _page_urls(arguments):
        for visitor in (browser, signed_out):
            response = visitor.get(url, follow=True)
            if response.status_code in (403, 405):
                break
            if response.status_code == 200:
                found += [(visitor, response.request["PATH_INFO"], form) for form in forms_of(response)]
                break
    return found


def _submit(visitor, page, form, name, value):
    data = {}
    for field_name, _, field_value in form["fields"]:
        data.setdefault(field_name, []).append(field_value or "")
    data[name] = [value]
    action = form["action"] or page
    if form["method"] == "post":
        return visitor.post(action, data)
    return visitor.get(action, data)


def test_every_form_refuses_control_characters_and_extreme_dates_with_a_form_error(studio):
    browser, arguments = studio
    forms = _forms_to_feed(browser, arguments)
    text_fields = date_fields = 0

    for visitor, page, form in forms:
        for name, kind, _ in form["fields"]:
            if kind in TEXT_INPUT_TYPES or kind == "textarea":
                text_fields += 1
                for label, value in HOSTILE_TEXT.items():
                    response = _submit(visitor, page, form, name, value)
                    assert response.status_code < 500, f"{label} in {name} of {page}"
                    if form["method"] == "post":
                        assert name in errors_shown(response), f"{label} in {name} of {page} was accepted"
            elif kind == "date":
                date_fields += 1
                for day in EXTREME_DAYS:
                    response = _submit(visitor, page, form, name, day)
                    assert response.status_code < 500, f"{day} in {name} of {page}"
                    if form["method"] == "post":
                        assert name in errors_shown(response), f"{day} in {name} of {page} was accepted"

    # The walk reached the forms that matter: booking, client, profile, login, the admin's.
    assert text_fields >= 20
    assert date_fields >= 3


@pytest.mark.parametrize("query", [{"date": "9999-12-31"}, {"date": "0001-01-01", "view": "week"}])
def test_the_calendar_asked_for_a_day_outside_the_calendar_shows_today(studio, query):
    browser, _ = studio

    response = browser.get("/calendar/", query)

    assert response.status_code == 200
    assert response.context["day"] == response.context["today"]


@pytest.mark.parametrize("view", ["day", "week"])
def test_the_calendar_shows_the_last_day_of_the_calendar(studio, view):
    browser, _ = studio

    response = browser.get("/calendar/", {"date": "2099-12-31", "view": view})

    assert response.status_code == 200
    assert response.context["day"].isoformat() == "2099-12-31"


def test_a_line_break_in_a_client_s_name_is_a_form_error_but_notes_keep_theirs(studio):
    browser, arguments = studio
    client_pk = arguments["client"]["pk"]
    form = {"full_name": "Nina\nNovak", "phone": "+14155550199", "email": "", "notes": "Line one\r\nLine two"}

    response = browser.post(f"/clients/{client_pk}/edit/", form)

    assert response.status_code in (200, 400)
    errors = response.context["form"].errors
    assert list(errors) == ["full_name"]
    assert errors["full_name"] == ["Remove the control character U+000A: this field takes a single line of plain text."]
