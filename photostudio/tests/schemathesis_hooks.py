"""Schemathesis hooks for ``test_api_schemathesis``, loaded by the Schemathesis CLI (no Django here).

Requests are signed in with the credentials the test passes in the environment. When an
operation ends that sign-in (logout, revoking sessions), the next request's 401 makes Schemathesis
sign in again and replay it, so the rest of the run stays authenticated.
"""

import os

import requests
import schemathesis


@schemathesis.auth(retry_on=[401])
class SignIn:
    def get(self, case, context):
        response = requests.post(
            f"{os.environ['STUDIO_API_ORIGIN']}/api/v1/auth/login",
            json={"username": os.environ["STUDIO_API_USERNAME"], "password": os.environ["STUDIO_API_PASSWORD"]},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
