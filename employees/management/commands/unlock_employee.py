from django.core.management.base import BaseCommand, CommandError

from employees.management.arguments import add_employee_arguments, employee_named, operator_named
from employees.services import unlock_employee
from photostudio.errors import PermissionDenied


class Command(BaseCommand):
    help = (
        "Lift an employee's sign-in lockout (from every address) after too many failed sign-ins, "
        "recording employee.unlocked with you as the actor."
    )

    def add_arguments(self, parser):
        add_employee_arguments(parser, action="unlock")

    def handle(self, *args, username, operator, **options):
        employee = employee_named(username)
        try:
            removed = unlock_employee(employee=employee, actor=operator_named(operator))
        except PermissionDenied as exc:
            raise CommandError(f"{exc.message} ('{operator}' cannot manage '{username}'.)") from exc
        if removed:
            self.stdout.write(self.style.SUCCESS(f"Unlocked '{username}': {removed} lock record(s) removed."))
        else:
            self.stdout.write(f"'{username}' was not locked out; the unlock is recorded all the same.")
