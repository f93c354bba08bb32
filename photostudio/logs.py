"""Structured JSON logs on stdout (and optionally a size-rotated file): one object per line, with
the request id bound per request."""

import json
import logging
from datetime import UTC, datetime
from functools import cache

import structlog

# The access line, one per request (photostudio.middleware.RequestIdMiddleware).
ACCESS_LOGGER = "photostudio.request"

# structlog's own context variables, one per key ever bound, by "structlog_<key>". Its
# clear_contextvars() and merge_contextvars() find them by walking every variable of the context,
# some fifty under Django, twice per request and once per line. test_logs pins what they do.
_STRUCTLOG_VARIABLES = structlog.contextvars._CONTEXT_VARS
_PREFIX_LENGTH = len(structlog.contextvars.STRUCTLOG_KEY_PREFIX)


def clear_contextvars() -> None:
    """``structlog.contextvars.clear_contextvars()``: nothing bound stays bound."""
    for variable in list(_STRUCTLOG_VARIABLES.values()):
        variable.set(Ellipsis)


def merge_contextvars(logger, method_name: str, event_dict: dict) -> dict:
    """``structlog.contextvars.merge_contextvars``: what is bound joins the line, unless it holds its own."""
    for name, variable in list(_STRUCTLOG_VARIABLES.items()):
        value = variable.get()
        if value is not Ellipsis:
            event_dict.setdefault(name[_PREFIX_LENGTH:], value)
    return event_dict


_SHARED_PROCESSORS = [
    merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


@cache
def _json_encoder(default) -> json.JSONEncoder:
    return json.JSONEncoder(default=default)


def _dumps(event_dict: dict, *, default=None) -> str:
    """``json.dumps(event_dict, default=default)``, with one encoder per ``default``: json.dumps
    makes an encoder for every call given one, a quarter of the JSON rendering of an access line."""
    return _json_encoder(default).encode(event_dict)


_render_json = structlog.processors.JSONRenderer(serializer=_dumps)


class JsonFormatter(structlog.stdlib.ProcessorFormatter):
    """Every line as one JSON object, through structlog's processors.

    The access line takes a shortcut: it is logged through the standard library with its fields
    as a plain dict that already holds its request id, so only what the processors would add is
    added (the rest of the request's context, level, logger, time) and it is rendered: neither
    structlog's chain in front of the handler nor the record copy and general formatting here
    run on the one line every request writes, a quarter of a liveness probe's time.
    """

    def format(self, record: logging.LogRecord) -> str:
        if record.name != ACCESS_LOGGER or type(record.msg) is not dict or hasattr(record, "_logger"):
            return super().format(record)  # any other line, structlog's own included
        event = merge_contextvars(None, "", record.msg.copy())
        event["level"] = record.levelname.lower()
        event["logger"] = record.name
        event["timestamp"] = datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z")
        return _render_json(None, "", event)


class SecretPathFilter(logging.Filter):
    """A view whose address holds a secret (a calendar feed's token) sets ``request.logged_path``
    without it; Django's own lines about the request ("Not Found: /path") then name that one too."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        logged_path = getattr(request, "logged_path", None)
        if logged_path is not None and isinstance(record.args, tuple):
            record.args = tuple(logged_path if arg == request.path else arg for arg in record.args)
        return True


def logging_config(level: str, *, log_file: str = "", max_bytes: int = 0, backups: int = 0) -> dict:
    """Configure structlog and return the matching dict for Django's LOGGING setting.

    With ``log_file`` the same lines also go to that file, rotated once it reaches ``max_bytes``
    with ``backups`` old files kept (``app.log.1`` …). Each process rotates the file it writes.
    """
    handlers = {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["secret_paths"],
        }
    }
    if log_file:
        handlers["file"] = {
            "class": "logging.handlers.RotatingFileHandler",
            "filename": log_file,
            "maxBytes": max_bytes,
            "backupCount": backups,
            "encoding": "utf-8",
            "formatter": "json",
            "filters": ["secret_paths"],
        }
    structlog.configure(
        processors=[
            *_SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"secret_paths": {"()": SecretPathFilter}},
        "formatters": {
            "json": {
                "()": JsonFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    _render_json,
                ],
                "foreign_pre_chain": _SHARED_PROCESSORS,
            }
        },
        "handlers": handlers,
        "root": {"handlers": list(handlers), "level": level},
        "loggers": {
            # Django's default configuration also gives "django" a plain console handler (with
            # DEBUG on) and runserver's "django.server" a handler of its own, replaced here: every
            # line of theirs goes to the JSON handlers once, and nothing prints plain text.
            "django": {"handlers": [], "propagate": True},
            # Our request middleware writes the access line; runserver's own 4xx lines would
            # repeat it (and reach Python's last-resort handler, as plain text, without this).
            "django.server": {"level": "ERROR", "propagate": True},
            "django.db.backends": {"level": "INFO"},
        },
    }
