"""Content-Security-Policy and Permissions-Policy: every HTML page is held to the strict policy,
the API docs to the one their bundles need, and no template carries inline script."""

import re
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.test import Client as Browser

from employees.models import Role
from employees.tests.factories import EmployeeFactory, verified_login
from photostudio.api import server_error
from photostudio.headers import API_DOCS_POLICY, PAGE_POLICY, SERVER_ERROR_POLICY

pytestmark = pytest.mark.django_db


def directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


@pytest.fixture
def manager_browser():
    browser = Browser()
    verified_login(browser, EmployeeFactory(role=Role.MANAGER))
    return browser


def test_the_page_policy_allows_scripts_and_style_sheets_from_the_studio_only():
    policy = directives(PAGE_POLICY)

    assert policy["script-src"] == "'self'"
    assert policy["style-src-elem"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert (policy["object-src"], policy["base-uri"], policy["frame-ancestors"]) == ("'none'", "'none'", "'none'")


@pytest.mark.parametrize("path", ["/", "/calendar/", "/bookings/", "/clients/", "/reports/", "/profile/", "/admin/"])
def test_staff_pages_and_the_admin_carry_the_strict_policy(manager_browser, path):
    response = manager_browser.get(path)

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == PAGE_POLICY
    assert "camera=()" in response["Permissions-Policy"]


def test_the_login_page_carries_the_strict_policy(client):
    response = client.get("/login/")

    assert response["Content-Security-Policy"] == PAGE_POLICY


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_carry_the_policy_their_bundles_need(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == API_DOCS_POLICY
    assert directives(API_DOCS_POLICY)["script-src"] == "'self'"


def test_swagger_ui_starts_from_a_script_file_that_does_not_keep_the_token(client):
    page = client.get("/docs").content.decode()
    script_url = re.search(r'<script src="(/docs\?[^"]*script=[^"]*)"', page).group(1).replace("&amp;", "&")

    script = client.get(script_url)

    assert script.status_code == 200
    assert '"persistAuthorization": false' in script.content.decode()
    assert not re.search(r"<script>\s*\S", page)


def test_json_answers_carry_no_page_policy(client):
    response = client.get("/api/v1/spaces/")

    assert "Content-Security-Policy" not in response
    assert "Permissions-Policy" in response


def test_the_500_page_carries_a_policy_for_its_own_inline_styles(rf):
    response = server_error(rf.get("/calendar/"))

    assert response["Content-Security-Policy"] == SERVER_ERROR_POLICY


def _templates():
    own = Path(settings.BASE_DIR) / "templates"
    admin = Path(django.__file__).parent / "contrib" / "admin" / "templates"
    return [path for root in (own, admin) for path in root.rglob("*.html") if "email" not in path.parts]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)


@pytest.mark.parametrize("template", _templates(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_template_the_pages_use_runs_inline_script(template):
    text = template.read_text()
    if template.match("drf_spectacular/*") or template.name == "500.html":
        text = re.sub(r"<style>.*?</style>", "", text, flags=re.DOTALL)

    assert not INLINE_SCRIPT.search(text)
    assert not EVENT_HANDLER.search(text)
    assert "javascript:" not in text
