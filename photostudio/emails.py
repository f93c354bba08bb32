"""The studio's e-mails: a plain-text and an HTML part (laid out by ``templates/email/base.html``),
signed with the studio's name from DEFAULT_FROM_EMAIL, times shown in the studio's TIME_ZONE."""

from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: str
    mimetype: str


def studio_name() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[0] or "The studio"


def send_email(
    *, template: str, subject: str, to: list[str], context: dict, attachments: Iterable[Attachment] = ()
) -> None:
    """Render ``<template>.txt`` and ``<template>.html`` with ``context`` (and ``studio``, the
    studio's name) in the studio's TIME_ZONE and send both parts, and any ``attachments``, to ``to``."""
    context = {"studio": studio_name(), **context}
    with timezone.override(settings.TIME_ZONE):
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=to)
    message.attach_alternative(html, "text/html")
    for attachment in attachments:
        message.attach(attachment.filename, attachment.content, attachment.mimetype)
    message.send()
