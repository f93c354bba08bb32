from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from employees.models import Employee, Role


@transaction.atomic
def create_admin(*, username: str, email: str, password: str) -> tuple[Employee, bool]:
    """Create an admin employee, or return the existing one unchanged (created is False).

    Raises django.core.exceptions.ValidationError when the password is missing or too weak.
    """
    validate_password(password, user=Employee(username=username, email=email, role=Role.ADMIN))
    existing = Employee.objects.filter(username=username).first()
    if existing is not None:
        return existing, False
    return Employee.objects.create_superuser(username, password, email=email, full_name="Administrator"), True
