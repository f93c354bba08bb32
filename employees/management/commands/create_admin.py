import os

from django.core.management.base import BaseCommand, CommandError

from employees.selectors import studio_has_admin
from employees.services import create_admin
from photostudio.errors import ValidationFailed

PASSWORD_VARIABLE = "DJANGO_SUPERUSER_PASSWORD"


class Command(BaseCommand):
    help = (
        f"Create the studio's admin employee without prompting; the password comes from ${PASSWORD_VARIABLE}. "
        "An existing admin of that username is left as it is; any other existing employee is refused. "
        "With --if-no-admin, nothing is done once the studio has an admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin", help="Letters, digits and @.+-_ only (default: admin).")
        parser.add_argument("--email", default="", help="The admin's e-mail address (optional).")
        parser.add_argument(
            "--if-no-admin",
            action="store_true",
            help="Only create the studio's first admin: do nothing once it has one, whoever holds the username "
            "(the deployment's start-up runs it every time).",
        )

    def handle(self, *args, username, email, if_no_admin, **options):
        if if_no_admin and studio_has_admin():
            self.stdout.write("The studio already has an admin; nothing to do.")
            return
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
