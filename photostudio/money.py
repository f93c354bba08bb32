"""An amount as people read it: with the studio's currency, on pages, in e-mails and in history."""

from django.conf import settings


def money_text(amount) -> str:
    """``160.00`` → ``"160.00 USD"`` (STUDIO_CURRENCY); nothing for a missing amount."""
    if amount is None or amount == "":
        return ""
    return f"{amount} {settings.STUDIO_CURRENCY}"
