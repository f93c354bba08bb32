import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from employees.services import create_admin

PASSWORD_VARIABLE = "DJANGO_SUPERUSER_PASSWORD"


class Command(BaseCommand):
    help = f"Create the studio's admin employee without prompting; the password comes from ${PASSWORD_VARIABLE}."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="")

    def handle(self, *args, username, email, **options):
        password = os.environ.get(PASSWORD_VARIABLE, "")
        if not password:
            raise CommandError(f"Set {PASSWORD_VARIABLE} to the admin's password (nothing was created).")
        try:
            employee, created = create_admin(username=username, email=email, password=password)
        except ValidationError as exc:
            raise CommandError(f"Password refused: {' '.join(exc.messages)} (nothing was created).") from exc
        if created:
            self.stdout.write(self.style.SUCCESS(f"Admin '{employee.username}' created."))
        else:
            self.stdout.write(f"Admin '{employee.username}' already exists; left unchanged.")
