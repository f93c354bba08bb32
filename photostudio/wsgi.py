import os
from functools import lru_cache

import django
from django.core.handlers.wsgi import WSGIHandler
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photostudio.settings")


@lru_cache(maxsize=1024)
def _resolve(resolver, path_info: str):
    # An address that matches nothing raises Resolver404, which lru_cache does not keep.
    return resolver.resolve(path_info)


class StudioWSGIHandler(WSGIHandler):
    """Django's WSGI handler, matching each address against the URLconf once per process.

    Django walks the URL patterns on every request, a twentieth of an API read's function calls.
    What an address resolves to changes only with the URLconf, and a changed URLconf is a new
    resolver (``clear_url_caches``): the 1024 addresses last seen are kept per resolver. Requests to
    one address share its ``ResolverMatch``, which nothing in the studio or its libraries changes.
    """

    def resolve_request(self, request):
        if hasattr(request, "urlconf"):
            return super().resolve_request(request)
        resolver_match = _resolve(get_resolver(), request.path_info)
        request.resolver_match = resolver_match
        return resolver_match


django.setup(set_prefix=False)
application = StudioWSGIHandler()
