from django.core.management.base import BaseCommand, CommandError

from employees.management.arguments import add_employee_arguments, employee_named, operator_named
from employees.mfa import MfaNotEnabled, reset_mfa
from photostudio.errors import PermissionDenied


class Command(BaseCommand):
    help = (
        "Remove an employee's authenticator app and backup codes (a lost phone) and end their "
        "sign-ins; they set up a new authenticator at their next sign-in where their role requires "
        "one. Records employee.mfa_reset with you as the actor."
    )

    def add_arguments(self, parser):
        add_employee_arguments(parser, action="reset two-factor authentication for")

    def handle(self, *args, username, operator, **options):
        employee = employee_named(username)
        actor = operator_named(operator)
        try:
            # The right is checked first: an operator without it learns nothing, even that there is nothing to reset.
            reset_mfa(employee=employee, actor=actor)
        except PermissionDenied as exc:
            raise CommandError(f"{exc.message} ('{operator}' cannot manage '{username}'.)") from exc
        except MfaNotEnabled:
            self.stdout.write(f"'{username}' has no authenticator or backup codes; nothing to reset.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Removed the authenticator and backup codes of '{username}' and ended their sign-ins; "
                "they enrol again at their next sign-in."
            )
        )
