"""What the employee commands share: naming the employee to act on and the operator acting.

A command run from the shell still has an actor in the event trail: the operator names
themselves with ``--operator`` and needs the same rights as in the admin.
"""

from django.core.management.base import CommandError

from employees.models import Employee


def add_employee_arguments(parser, *, action: str) -> None:
    parser.add_argument("username", help=f"The employee to {action}.")
    parser.add_argument(
        "--operator",
        required=True,
        metavar="USERNAME",
        help="You: an active admin or manager recorded as the actor in the event trail.",
    )


def employee_named(username: str) -> Employee:
    employee = Employee.objects.filter(username=username).first()
    if employee is None:
        raise CommandError(f"No employee is called '{username}'.")
    return employee


def operator_named(username: str) -> Employee:
    operator = employee_named(username)
    if not operator.is_active:
        raise CommandError(f"'{username}' is deactivated and cannot act as operator.")
    return operator
