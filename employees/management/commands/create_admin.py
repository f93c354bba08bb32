import os

from django.core.management.base import BaseCommand, CommandError

from employees.services import create_admin
from photostudio.errors import ValidationFailed

PASSWORD_VARIABLE = "DJANGO_SUPERUSER_PASSWORD"


class Command(BaseCommand):
    help = (
        f"Create the studio's admin employee without prompting; the password comes from ${PASSWORD_VARIABLE}. "
        "An existing admin of that username is left as it is; any other existing employee is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin", help="Letters, digits and @.+-_ only (default: admin).")
        parser.add_argument("--email", default="", help="The admin's e-mail address (optional).")

    def handle(self, *args, username, email, **options):
        password = os.environ.get(PASSWORD_VARIABLE, "")
        if not password:
            raise CommandError(f"Set {PASSWORD_VARIABLE} to the admin's password (nothing was created).")
        try:
            employee, created = create_admin(username=username, email=email, password=password)
        except ValidationFailed as exc:
            problems = " ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.details.items())
            raise CommandError(f"{problems} (nothing was created).") from exc
        if created:
            email_note = f" with e-mail {employee.email}" if employee.email else " without an e-mail address"
            self.stdout.write(self.style.SUCCESS(f"Admin '{employee.username}' created{email_note}."))
        else:
            self.stdout.write(f"Admin '{employee.username}' already exists; left unchanged (password not touched).")
