"""``{{ amount|money }}``: an amount with the studio's currency, as pages and e-mails show it."""

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def money(amount) -> str:
    """``160.00`` → ``"160.00 USD"`` (STUDIO_CURRENCY); nothing for a missing amount."""
    if amount is None or amount == "":
        return ""
    return f"{amount} {settings.STUDIO_CURRENCY}"
