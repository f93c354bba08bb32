import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from bookings import analytics
from bookings.demo import create_demo_bookings
from bookings.demo_group import (
    AlreadySeeded,
    GroupPlan,
    TooManyBookings,
    busy_day,
    plan_group,
    progress_bar,
    seed_group,
)
from employees.models import Employee, Role
from employees.services import create_admin

CREDENTIALS_FILE = Path(settings.BASE_DIR) / ".demo-credentials"

DEMO_STAFF = [
    ("maria", "Maria Manager", Role.MANAGER, "Management"),
    ("rita", "Rita Reception", Role.RECEPTIONIST, "Front desk"),
    ("pete", "Pete Photographer", Role.PHOTOGRAPHER, "Photography"),
]


class Command(BaseCommand):
    help = (
        "Create a demo admin, demo staff and demo data once; later runs change nothing. With "
        "--bookings N, also a studio group of 24 spaces with N bookings of history, in bulk."
    )

    def add_arguments(self, parser):
        parser.add_argument("--credentials-file", type=Path, default=CREDENTIALS_FILE)
        parser.add_argument(
            "--bookings",
            type=int,
            metavar="N",
            help="Also build a studio group with N bookings (years of them, in every state, with their events).",
        )

    def handle(self, *args, credentials_file, bookings, **options):
        plan = None
        if bookings is not None:
            if bookings < 1:
                raise CommandError("--bookings must be at least 1.")
            try:  # before anything is written, the demo logins included
                plan = plan_group(bookings=bookings, today=timezone.localdate())
            except TooManyBookings as exc:
                raise CommandError(f"{exc} Ask for fewer.") from None
        if Employee.objects.filter(username="admin").exists():
            self.stdout.write(f"Demo data already present. The demo logins are in {credentials_file}.")
        else:
            self._seed_demo(credentials_file)
        if plan is not None:
            self._seed_group(plan)

    def _seed_group(self, plan: GroupPlan):
        self.stdout.write(f"Building a studio group with {plan.bookings:,} bookings…")
        try:
            made = seed_group(plan, now=timezone.now(), progress=progress_bar(self._write_flushed))
        except AlreadySeeded as exc:
            raise CommandError(f"{exc} Seed a fresh database to build another.") from None
        analytics.refresh()
        busy = busy_day(plan.today)
        busy_note = f"; every slot is booked on {busy}" if made["first_day"] <= busy else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{made['bookings']:,} bookings of {made['clients']:,} clients from {made['first_day']} to "
                f"{made['last_day']}{busy_note}."
            )
        )

    def _write_flushed(self, text: str):
        self.stdout.write(text, ending="")
        self.stdout.flush()

    def _seed_demo(self, credentials_file: Path):
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
            # Before the commit: logins whose password could not be written down are rolled back,
            # not left behind for the next run to call "already present".
            _write_credentials(credentials_file, password)
        banner = "=" * 64
        self.stdout.write(
            self.style.SUCCESS(
                f"\n{banner}\n Demo logins (same password for each, saved in {credentials_file}):\n"
                f"   admin / maria (manager) / rita (front desk) / pete (photographer)\n"
                f"   password: {password}\n{banner}\n"
            )
        )


def _write_credentials(credentials_file: Path, password: str) -> None:
    try:
        credentials_file.write_text(
            "".join(f"{name}  {password}\n" for name in ["admin", *(staff[0] for staff in DEMO_STAFF)])
        )
        credentials_file.chmod(0o600)
    except OSError as exc:
        raise CommandError(
            f"Cannot write the demo logins to {credentials_file} ({exc.strerror}); nothing was created."
        ) from None
