"""The notices that tell an employee about a sensitive change to their account.

Each is sent by a subscriber (employees/subscribers.py) through its own delivery, so it is retried
when the mail server fails and sent at most once when it works. Account notices are always sent,
whatever ``NOTIFICATIONS_ENABLED`` says: they are how an employee learns that someone else changed
how they sign in.
"""

from employees.models import Employee
from events.models import Event, EventType
from events.registry import Skipped
from photostudio.dates import moment_text
from photostudio.emails import send_email

# Subject and message of the notice each sensitive account change sends its employee.
ACCOUNT_NOTICES = {
    EventType.EMPLOYEE_PASSWORD_CHANGED: (
        "Your password was changed",
        "The password of your account was changed, and your other sign-ins were ended.",
    ),
    EventType.EMPLOYEE_UPDATED: (
        "The e-mail address of your account was changed",
        "The e-mail address of your account was changed from {previous_email} to {new_email}.",
    ),
    EventType.EMPLOYEE_MFA_ENABLED: (
        "Two-factor authentication is on",
        "An authenticator app was set up for your account; signing in now needs a code from it.",
    ),
    EventType.EMPLOYEE_MFA_DISABLED: (
        "Two-factor authentication is off",
        "Two-factor authentication was turned off for your account; signing in needs only the password now.",
    ),
    EventType.EMPLOYEE_MFA_RESET: (
        "Your two-factor authentication was reset",
        "{actor} removed the authenticator app and backup codes of your account and ended all your sign-ins.",
    ),
    EventType.EMPLOYEE_BACKUP_CODES_REGENERATED: (
        "New backup codes were made",
        "Your account has ten new backup codes; the old ones no longer work.",
    ),
    EventType.EMPLOYEE_TOKEN_REUSE_DETECTED: (
        "An API sign-in of yours was ended",
        "A refresh token of one of your API sign-ins was used again after it had been exchanged, from "
        "{ip_address}: someone may have a copy of it. That sign-in was ended.",
    ),
}


def email_account_notice(event: Event) -> str:
    """Tell the employee of ``event`` what changed on their account (an e-mail change: both the
    previous and the new address). Raises Skipped when there is no one to tell."""
    employee = Employee.objects.filter(pk=event.aggregate_id).first()
    if employee is None:
        raise Skipped("The employee no longer exists.")
    subject, message = ACCOUNT_NOTICES[event.type]
    email_change = event.payload.get("email") or {}
    if event.type == EventType.EMPLOYEE_UPDATED and not email_change:
        raise Skipped("The e-mail address did not change.")
    recipients = [email_change.get("from"), email_change.get("to")] if email_change else [employee.email]
    recipients = list(dict.fromkeys(address for address in recipients if address))
    if not recipients:
        raise Skipped("The employee has no e-mail address.")
    message = message.format(
        previous_email=email_change.get("from") or "none",
        new_email=email_change.get("to") or "none",
        actor=event.actor.get_full_name() if event.actor else "A manager",
        ip_address=event.payload.get("ip_address") or "an unknown address",
    )
    context = {
        "recipient": employee.get_short_name(),
        "message": message,
        "when": moment_text(event.occurred_at),
    }
    send_email(template="employees/email/account_notice", subject=subject, to=recipients, context=context)
    return f"E-mailed {', '.join(recipients)}: {subject}"
