"""The API's one way of paging lists: ``?page=`` and ``?page_size=``, a ``count``, and an order
that always ends in the primary key, so no row is skipped or shown twice between pages."""

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from photostudio.api import REPEATED_PARAMETER_MESSAGE

_UNIQUE_TAIL = {"pk", "-pk", "id", "-id"}


def _whole_number(raw: str, *, name: str, minimum: int, maximum: int | None = None) -> int:
    bounds = f"from {minimum} to {maximum}" if maximum else f"{minimum} or more"
    message = f"Give a whole number {bounds}."
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ValidationError({name: [message]})
    number = int(raw)
    if number < minimum or (maximum is not None and number > maximum):
        raise ValidationError({name: [message]})
    return number


def _once(params, name: str) -> str | None:
    """The value of the query parameter ``name``; given twice, it is refused, not read as the last."""
    values = params.getlist(name)
    if len(values) > 1:
        raise ValidationError({name: [REPEATED_PARAMETER_MESSAGE]})
    return values[0] if values else None


def stable(queryset):
    """``queryset`` ordered as it asks, then by primary key unless its order already ends in one."""
    ordering = list(queryset.query.order_by or queryset.model._meta.ordering)
    if ordering and ordering[-1] in _UNIQUE_TAIL:
        return queryset
    return queryset.order_by(*ordering, "pk")


class _Page(Page):
    def __iter__(self):
        # Django's Page iterates by index (Sequence's way), a method call per item: lists of up
        # to 200 rendered bookings are iterated whole.
        if not isinstance(self.object_list, list):
            self.object_list = list(self.object_list)
        return iter(self.object_list)


class _Paginator(Paginator):
    def _get_page(self, *args, **kwargs) -> _Page:
        return _Page(*args, **kwargs)


class PageNumberPagination(pagination.PageNumberPagination):
    django_paginator_class = _Paginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    last_page_strings = ()

    def paginate_queryset(self, queryset, request, view=None):
        """Pages of a queryset (made stable) or of an already ordered list (a cached one)."""
        if isinstance(queryset, QuerySet):
            queryset = stable(queryset)
        return super().paginate_queryset(queryset, request, view)

    def paginated_json(self, results: list[bytes]) -> bytes:
        """``get_paginated_response``'s body as the API renders JSON, around ``results`` already
        rendered so."""
        envelope = JSONRenderer().render(self._envelope([]))
        return envelope.removesuffix(b"[]}") + b"[" + b",".join(results) + b"]}"

    def get_paginated_response(self, data):
        return Response(self._envelope(data))

    def _envelope(self, results: list) -> dict:
        """DRF's page: ``paginated_json`` renders it without making a Response for it."""
        return {
            "count": self.page.paginator.count,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": results,
        }

    def get_page_number(self, request, paginator):
        raw = _once(request.query_params, self.page_query_param)
        if raw is None:
            return 1
        return _whole_number(raw, name=self.page_query_param, minimum=1)

    def get_page_size(self, request):
        raw = _once(request.query_params, self.page_size_query_param)
        if raw is None:
            return self.page_size
        return _whole_number(raw, name=self.page_size_query_param, minimum=1, maximum=self.max_page_size)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1. A page past the last one answers 404.",
                "schema": {"type": "integer", "minimum": 1, "maximum": 10**18 - 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page (default {self.page_size}, at most {self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "minimum": 0, "description": "How many results all pages hold."},
                "next": {"type": "string", "format": "uri", "nullable": True, "description": "The next page."},
                "previous": {"type": "string", "format": "uri", "nullable": True, "description": "The page before."},
                "results": {**schema, "description": "This page's items."},
            },
        }
