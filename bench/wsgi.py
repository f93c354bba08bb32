"""The bench's WSGI application: the studio as gunicorn serves it, plus one trivial Django JSON
view at ``TRIVIAL_PATH`` that skips the middleware stack and the URL resolver, the yardstick every
scenario is compared to (what Django and gunicorn cost on this machine with nothing to do)."""

from django.core.handlers.wsgi import WSGIRequest
from django.http import JsonResponse

from bench.scenarios import TRIVIAL_PATH
from photostudio.wsgi import application as studio


def trivial_view(request) -> JsonResponse:
    return JsonResponse({"ok": True})


def application(environ, start_response):
    if environ.get("PATH_INFO") != TRIVIAL_PATH:
        return studio(environ, start_response)
    response = trivial_view(WSGIRequest(environ))
    start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
    return response
