"""Employees' subscribers: the notice of a sensitive change, e-mailed to the employee it is about."""

from employees import notifications
from events.registry import subscriber


@subscriber(*notifications.ACCOUNT_NOTICES)
def email_employee_account_changed(event):
    return notifications.email_account_notice(event)
