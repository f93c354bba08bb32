"""The REST API's shared mechanics: the one translation of failures into HTTP
(``{"error": {"code", "message", "details"}}``, also for unknown /api/ paths), the JSON parser,
strict input serializers and filters, and the per-caller throttle."""

import functools
import re
import sys
from collections.abc import Mapping

from django import forms
from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.template import loader
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, negotiation, parsers, serializers, status, throttling
from rest_framework.response import Response
from rest_framework.settings import api_settings

from photostudio import errors
from photostudio.cache import cache
from photostudio.headers import CONTENT_SECURITY_POLICY, SERVER_ERROR_POLICY
from photostudio.inputs import control_character, control_character_message

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_DOMAIN_STATUS = (
    (errors.NotFound, status.HTTP_404_NOT_FOUND),
    (errors.PermissionDenied, status.HTTP_403_FORBIDDEN),
    (errors.Conflict, status.HTTP_409_CONFLICT),
)

_DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}

UNKNOWN_FIELD_MESSAGE = "This field is not accepted here."
EMPTY_FILTER_MESSAGE = "Give a value, or leave the parameter out."
UNKNOWN_PARAMETER_MESSAGE = "This parameter is not taken here: see the operation's parameters in /api/schema/."
REPEATED_PARAMETER_MESSAGE = "Give this parameter once: a filter taking several values takes them comma-separated."
VALIDATION_MESSAGE = "Some of the values are not valid."


def error_body(code: str, message: str, details: dict | list | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def domain_error_status(exc: errors.DomainError) -> int:
    for error_class, http_status in _DOMAIN_STATUS:
        if isinstance(exc, error_class):
            return http_status
    return getattr(exc, "http_status", status.HTTP_400_BAD_REQUEST)


# How to authenticate to the API, for a 401 of a view that names no authenticator of its own
# (sign-in and token refresh): with the bearer token the sign-in answers.
API_CHALLENGE = 'Bearer realm="api"'


def exception_handler(exc, context):
    if isinstance(exc, errors.DomainError):
        response = Response(error_body(exc.code, exc.message, exc.details), status=domain_error_status(exc))
        if response.status_code == status.HTTP_401_UNAUTHORIZED:
            # RFC 9110 §15.5.2: a 401 says how to authenticate, as DRF's own 401s do.
            view = context.get("view")
            response["WWW-Authenticate"] = (view and view.get_authenticate_header(context["request"])) or API_CHALLENGE
        return response
    if isinstance(exc, RequestDataTooBig):
        message = f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        return Response(error_body("request_too_large", message), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    # Imported here: rest_framework.views reads the parser and throttle settings, which name this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body("validation_failed", VALIDATION_MESSAGE, details)
        return response
    code = next((code for cls, code in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    message = str(exc.detail) if isinstance(exc.detail, str) else str(getattr(exc, "default_detail", "Error"))
    details = {"wait_seconds": exc.wait} if isinstance(exc, exceptions.Throttled) and exc.wait else {}
    response.data = error_body(code, message, details)
    return response


def bad_request(request, exception):
    """Django's 400 for a request refused before any view (a host name not in ALLOWED_HOSTS, a
    request Django finds suspicious): the API's error body under /api/, the usual page elsewhere."""
    if not request.path.startswith("/api/"):
        return defaults.bad_request(request, exception)
    if isinstance(exception, DisallowedHost):
        message = "This server does not answer to that host name; the studio lists the names it does in ALLOWED_HOSTS."
        return JsonResponse(error_body("host_not_allowed", message), status=400)
    return JsonResponse(error_body("malformed_request", "The request was refused as malformed."), status=400)


def not_found(request, exception):
    """Django's 404 for paths no URL matches: the API's error body under /api/, the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "There is nothing at this address."), status=404)
    return defaults.page_not_found(request, exception)


@csrf_exempt  # nothing is written: a POST gets the 404 too, not the CSRF failure page
def unknown_address(request):
    return not_found(request, None)


def server_error(request):
    """Django's 500, should a bug get through: the API's error body under /api/, the usual page elsewhere.

    A database that cannot be reached (restarting, failing over, the pool out of connections) is
    no bug: that answers 503 ``service_unavailable`` with ``Retry-After``, and the next request
    tries again on a fresh connection.
    """
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return service_unavailable(request)
    if request.path.startswith("/api/"):
        message = "Something went wrong on our side; it has been logged. Try again later."
        return JsonResponse(error_body("server_error", message), status=500)
    response = defaults.server_error(request)
    response[CONTENT_SECURITY_POLICY] = SERVER_ERROR_POLICY
    return response


RETRY_AFTER_SECONDS = 5


def service_unavailable(request):
    if request.path.startswith("/api/"):
        message = "The service cannot reach its database right now. Try again in a moment."
        response = JsonResponse(error_body("service_unavailable", message), status=503)
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response[CONTENT_SECURITY_POLICY] = SERVER_ERROR_POLICY
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class JSONParser(parsers.JSONParser):
    """DRF's strict JSON parser, also answering 400 for nesting too deep for Python's decoder and
    for a lone surrogate escape (``"\\ud800"``): valid JSON syntax but no text, which no answer
    echoing it (an unknown field or space) could encode, so DRF would let both through as a server
    error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None
        if _holds_lone_surrogate(data):
            raise exceptions.ParseError("JSON parse error - a string holds half of a surrogate pair.")
        return data


def _holds_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        return _LONE_SURROGATE.search(value) is not None
    if isinstance(value, Mapping):
        return any(_holds_lone_surrogate(key) or _holds_lone_surrogate(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_lone_surrogate(item) for item in value)
    return False


class ContentNegotiation(negotiation.DefaultContentNegotiation):
    """DRF's content negotiation, answering its most frequent case without parsing the Accept
    header: no format asked for, and an Accept header that is absent, ``*/*`` or exactly the first
    renderer's media type, for which DRF chooses the first renderer and its media type too."""

    def select_renderer(self, request, renderers, format_suffix=None):
        first = renderers[0]
        format_override = self.settings.URL_FORMAT_OVERRIDE
        if (
            not format_suffix
            and request.META.get("HTTP_ACCEPT", "*/*") in ("*/*", first.media_type)
            and not (format_override and request.META.get("QUERY_STRING") and request.query_params.get(format_override))
        ):
            return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, refusing what it would otherwise silently ignore: a filter given
    without a value (``?date=``), a parameter the list does not take (``?space_type=`` for
    ``?space=``) and one given twice (``?state=pending&state=confirmed``, of which it would read
    the last). A list takes its FilterSet's filters, its paging and the ``query_parameters`` its
    view reads itself. The FilterSets themselves stay lenient, as the staff pages' forms send their
    blank fields."""

    def filter_queryset(self, request, queryset, view):
        # One FilterSet checks and filters: django-filter's own filter_queryset would build a second.
        filterset_class = self.get_filterset_class(view, queryset)
        given = request.query_params
        taken = {
            *(filter_parameters(filterset_class) if filterset_class is not None else ()),
            *_paging_parameters(view),
            *getattr(view, "query_parameters", ()),
        }
        unexpected = query_parameter_errors(given, taken=taken)
        if unexpected:
            raise exceptions.ValidationError(unexpected)
        if filterset_class is None:
            return queryset
        filterset_class = _with_filters(filterset_class, frozenset(given).intersection(filterset_class.base_filters))
        filterset = filterset_class(**self.get_filterset_kwargs(request, queryset, view))
        empty = {
            name: [EMPTY_FILTER_MESSAGE] for name in filterset.filters if name in given and not given[name].strip()
        }
        if empty:
            raise exceptions.ValidationError(empty)
        controlled = {name: messages for name, value in given.items() if (messages := _text_errors(value))}
        if controlled:
            raise exceptions.ValidationError(controlled)
        if not filterset.is_valid() and self.raise_exception:
            raise translate_validation(filterset.errors)
        return filterset.qs


def query_parameter_errors(params, *, taken) -> dict[str, list[str]]:
    """Why parameters of the query ``params`` are refused: not ``taken`` by the operation (nor
    DRF's format override), or given more than once."""
    taken = {*taken, api_settings.URL_FORMAT_OVERRIDE}
    refused = {}
    for name, values in params.lists():
        if name not in taken:
            refused[name] = [UNKNOWN_PARAMETER_MESSAGE]
        elif len(values) > 1:
            refused[name] = [REPEATED_PARAMETER_MESSAGE]
    return refused


@functools.lru_cache(maxsize=64)
def filter_parameters(filterset_class) -> frozenset[str]:
    """The query parameters ``filterset_class`` reads: each filter's name, or for a filter read
    from several (a range), each of theirs (``price_min``, ``price_max``)."""
    names = set()
    for name, declared in filterset_class.base_filters.items():
        if issubclass(declared.field_class, forms.MultiValueField):
            widget = declared.field.widget
            names.update(widget.suffixed(name, suffix) for suffix in widget.suffixes)
        else:
            names.add(name)
    return frozenset(names)


def _paging_parameters(view) -> tuple[str, ...]:
    paginator = view.paginator
    return (paginator.page_query_param, paginator.page_size_query_param) if paginator is not None else ()


class QuerySerializer(serializers.Serializer):
    """The parameters of a query string that is no list's (a list's are ``FilterBackend``'s),
    checked as a list's: none it does not declare, none given twice."""

    def to_internal_value(self, data):
        if isinstance(data, QueryDict):
            refused = query_parameter_errors(data, taken=self.fields)
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)


@functools.lru_cache(maxsize=256)
def _with_filters(filterset_class, names: frozenset[str]):
    """``filterset_class`` with only the filters ``names`` (those a query names) and any filter
    read from several parameters (a range).

    A filter the query leaves out filters nothing, but a FilterSet copies each of its filters and
    builds and cleans a form field for each: with the bookings' ten, a sixth of a day list's miss.
    ``names`` are filter names, so a query's own parameter names cannot fill the cache."""
    narrowed = type(filterset_class.__name__, (filterset_class,), {"__module__": filterset_class.__module__})
    narrowed.base_filters = {
        name: kept
        for name, kept in filterset_class.base_filters.items()
        if name in names or issubclass(kept.field_class, forms.MultiValueField)
    }
    return narrowed


# What JSON type each kind of field takes. DRF would quietly turn 4 into "4" or "4" into 4; an
# integrator whose code sends the wrong type should hear about it, as the schema promised.
_STRINGS = (
    serializers.CharField,
    serializers.ChoiceField,
    serializers.DecimalField,
    serializers.DateTimeField,
    serializers.DateField,
    serializers.TimeField,
    serializers.SlugRelatedField,
)
_JSON_TYPES = (
    (serializers.BooleanField, (bool,), "true or false"),
    (serializers.MultipleChoiceField, (list,), "a list"),
    (serializers.ListField, (list,), "a list"),
    (serializers.ManyRelatedField, (list,), "a list"),
    (serializers.ListSerializer, (list,), "a list"),
    (serializers.DictField, (dict,), "an object"),
    (serializers.BaseSerializer, (dict,), "an object"),
    (serializers.IntegerField, (int,), "a whole number"),
    (serializers.FloatField, (int, float), "a number"),
    (serializers.PrimaryKeyRelatedField, (int,), "an id (a whole number)"),
    (_STRINGS, (str,), "a string"),
)


# The style that marks a field as multi-line text, whose tabs and line breaks are accepted (DRF's own
# marker for a textarea).
MULTILINE = {"base_template": "textarea.html"}


def _multiline(field) -> bool:
    return getattr(field, "style", {}).get("base_template") == MULTILINE["base_template"]


def _text_errors(value, *, multiline: bool = False) -> list[str]:
    """Why the strings in ``value`` (nested in lists and objects too) are refused: control characters."""
    if isinstance(value, str):
        character = control_character(value, multiline=multiline)
        return [control_character_message(character, multiline=multiline)] if character else []
    if isinstance(value, Mapping):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list):
        return next((errors for item in value if (errors := _text_errors(item))), [])
    return []


def json_type_error(field, value) -> str | None:
    """Why ``value``, as parsed from JSON, has the wrong type for ``field``; None when it fits."""
    if value is None:
        return None  # the field's allow_null decides
    for kinds, accepted, expected in _JSON_TYPES:
        if isinstance(field, kinds):
            if not isinstance(value, accepted) or (bool not in accepted and isinstance(value, bool)):
                return f"Expected {expected}."
            break
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        return next((error for item in value if (error := json_type_error(field.child, item))), None)
    return None


@extend_schema_field(
    {"anyOf": [{"type": "string", "format": "email", "maxLength": 254}, {"type": "string", "maxLength": 0}]}
)
class EmailOrEmptyField(serializers.EmailField):
    """An e-mail address, or "" for none: documented as such, since "" is no valid ``format: email``."""

    def __init__(self, **kwargs):
        super().__init__(allow_blank=True, max_length=254, **kwargs)


@extend_schema_field({"type": "string", "format": "password", "maxLength": 4096})
class PasswordField(serializers.CharField):
    """A password, taken exactly as typed (no trimming, no text rules): only the password check
    judges it."""

    def __init__(self, **kwargs):
        super().__init__(max_length=4096, trim_whitespace=False, style={"input_type": "password"}, **kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]


class InputSerializer(serializers.Serializer):
    """Checks the shape of a request body and nothing more: each field's JSON type (no quiet
    conversion of 4 into "4"), no field it does not declare, so a misspelt or misplaced field is
    never silently ignored, and no control character in any string (``photostudio.inputs``).

    ``check(data)`` returns the clean data or raises a 400 with one message list per field.
    """

    @classmethod
    def check(cls, data, **kwargs) -> dict:
        serializer = cls(data=data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def to_internal_value(self, data):
        refused = {}
        if isinstance(data, Mapping):
            for name, value in data.items():
                field = self.fields.get(name)
                if field is None or field.read_only:
                    refused[str(name)] = [UNKNOWN_FIELD_MESSAGE]
                elif message := json_type_error(field, value):
                    refused[name] = [message]
                elif not isinstance(field, PasswordField) and (
                    messages := _text_errors(value, multiline=_multiline(field))
                ):
                    refused[name] = messages
            # The fields' own checks see only values of the right type.
            data = {name: value for name, value in data.items() if name not in refused}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if refused and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **refused}) from None
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value


class CallerRateThrottle(throttling.UserRateThrottle):
    """At most ``settings.API_THROTTLE_RATE`` requests per signed-in caller (cache-backed, so shared
    by every process on Redis). Anonymous requests pass: signing in has its own lockout. While Redis
    is down the cache cannot count, so every request passes rather than failing.

    Requests are counted per fixed window of the rate's period (a minute for 600/minute) with
    ``cache.take``, where DRF reads and writes back a list of timestamps (two round trips, and two
    requests at once may both count as one). A caller may therefore send up to twice the rate
    across a window's end. Each process counts its callers' requests in leases (see ``take``): a
    caller whose requests move between processes may be refused a little before the rate, never
    let through beyond it. As in DRF, a request is counted once it passed authentication and the
    view's permission classes.
    """

    scope = "caller"

    def get_rate(self) -> str:
        # Read for every request (DRF makes a throttle per request), so a changed setting applies at once.
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)

    def allow_request(self, request, view) -> bool:
        caller_key = self.get_cache_key(request, view)
        if caller_key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        return cache.take(f"{caller_key}:{window}", limit=self.num_requests, ttl=self.duration)

    def wait(self) -> float:
        return self.window_ends - self.now
