import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from bookings.demo import create_demo_bookings
from employees.models import Employee, Role
from employees.services import create_admin

CREDENTIALS_FILE = Path(settings.BASE_DIR) / ".demo-credentials"

DEMO_STAFF = [
    ("maria", "Maria Manager", Role.MANAGER, "Management"),
    ("rita", "Rita Reception", Role.RECEPTIONIST, "Front desk"),
    ("pete", "Pete Photographer", Role.PHOTOGRAPHER, "Photography"),
]


class Command(BaseCommand):
    help = "Create a demo admin, demo staff and demo data once; later runs change nothing."

    def add_arguments(self, parser):
        parser.add_argument("--credentials-file", type=Path, default=CREDENTIALS_FILE)

    def handle(self, *args, credentials_file, **options):
        if Employee.objects.filter(username="admin").exists():
            self.stdout.write(f"Demo data already present. The demo logins are in {credentials_file}.")
            return
        password = secrets.token_urlsafe(12)
        with transaction.atomic():
            admin, _ = create_admin(username="admin", email="admin@example.com", password=password)
            employees = {}
            for username, full_name, role, department in DEMO_STAFF:
                employees[username] = Employee.objects.create_user(
                    username,
                    password,
                    full_name=full_name,
                    role=role,
                    department=department,
                    email=f"{username}@example.com",
                )
            create_demo_bookings(actor=admin, photographer=employees["pete"], today=timezone.localdate())
        credentials_file.write_text(
            "".join(f"{name}  {password}\n" for name in ["admin", *(staff[0] for staff in DEMO_STAFF)])
        )
        credentials_file.chmod(0o600)
        banner = "=" * 64
        self.stdout.write(
            self.style.SUCCESS(
                f"\n{banner}\n Demo logins (same password for each, saved in {credentials_file}):\n"
                f"   admin / maria (manager) / rita (front desk) / pete (photographer)\n"
                f"   password: {password}\n{banner}\n"
            )
        )
