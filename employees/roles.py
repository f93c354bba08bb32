"""Which permissions each role holds, and the Django groups that carry them.

Every role has a group of the same name. An employee belongs to exactly the group of their role
(``Employee.save`` keeps it so); admins are superusers and hold every permission through that
flag, so their group carries none. Services check permissions with ``actor.has_perm``.

Permissions are resolved by codename from the database, so a permission that some app's later
migration creates is attached the next time ``sync_role_groups`` runs: after every ``migrate``
(the ``post_migrate`` receiver in ``employees.apps``) and whenever a role's group is created.
"""

from django.contrib.auth.models import Group, Permission
from django.db import models
from django.db.models import Q

from photostudio.cache import cache_invalidate


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    RECEPTIONIST = "receptionist", "Receptionist"
    PHOTOGRAPHER = "photographer", "Photographer"


_BOOKING_CUSTOM = (
    "confirm_booking",
    "cancel_booking",
    "start_booking",
    "complete_booking",
    "mark_no_show_booking",
    "override_booking_price",
    "undo_booking_state_change",
    "view_reports",
    "subscribe_studio_calendar",
)


def _crud(app_label: str, model: str, *actions: str) -> tuple[str, ...]:
    return tuple(f"{app_label}.{action}_{model}" for action in actions)


ALL = ("add", "change", "delete", "view")

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.ADMIN: (),
    Role.MANAGER: (
        *_crud("bookings", "booking", *ALL),
        *_crud("bookings", "client", *ALL),
        *_crud("bookings", "space", *ALL),
        # Closures are recorded and removed, never edited: there is no change_closure.
        *_crud("bookings", "closure", "add", "delete", "view"),
        *_crud("bookings", "waitlistentry", *ALL),
        *(f"bookings.{codename}" for codename in _BOOKING_CUSTOM),
        *_crud("employees", "employee", "add", "change", "view"),
        "events.view_event",
        # Managers run the studio's integrations: its webhooks and their failed deliveries.
        *_crud("events", "webhookendpoint", *ALL),
        "events.view_delivery",
        "events.retry_delivery",
    ),
    Role.RECEPTIONIST: (
        *_crud("bookings", "booking", "view", "add", "change"),
        "bookings.confirm_booking",
        "bookings.cancel_booking",
        "bookings.mark_no_show_booking",
        "bookings.subscribe_studio_calendar",
        *_crud("bookings", "client", "view", "add", "change"),
        "bookings.view_space",
        "bookings.view_closure",
        # The front desk keeps the waitlist: puts clients on it, books or withdraws them.
        *_crud("bookings", "waitlistentry", "view", "add", "change"),
        "employees.view_employee",
    ),
    Role.PHOTOGRAPHER: (
        "bookings.view_booking",
        "bookings.start_booking",
        "bookings.complete_booking",
        "bookings.view_client",
        "bookings.view_space",
        "bookings.view_closure",
    ),
}

# The guide's coarse capability names (``employee.has_permission("booking_management")``),
# each granted when the employee holds all of the listed permissions.
CAPABILITIES: dict[str, tuple[str, ...]] = {
    "booking_management": ("bookings.add_booking", "bookings.change_booking"),
    "client_management": ("bookings.add_client", "bookings.change_client"),
    "space_management": ("bookings.add_space", "bookings.change_space"),
    "employee_management": ("employees.add_employee", "employees.change_employee"),
    "price_override": ("bookings.override_booking_price",),
    "reports": ("bookings.view_reports",),
    "event_log": ("events.view_event",),
}

# Higher rank = more authority; nobody may give themselves a higher rank.
ROLE_RANK = {Role.PHOTOGRAPHER: 0, Role.RECEPTIONIST: 0, Role.MANAGER: 1, Role.ADMIN: 2}

# Roles a manager may create, edit and assign.
MANAGED_BY_MANAGERS = frozenset({Role.RECEPTIONIST, Role.PHOTOGRAPHER})

APP_LABELS = frozenset(code.split(".", 1)[0] for codes in ROLE_PERMISSIONS.values() for code in codes)


def permissions_for(role: str, permission_model):
    """The Permission rows that exist now for ``role`` (missing ones are created by later migrations)."""
    wanted = [code.split(".", 1) for code in ROLE_PERMISSIONS[role]]
    if not wanted:
        return permission_model.objects.none()
    by_app: dict[str, list[str]] = {}
    for app_label, codename in wanted:
        by_app.setdefault(app_label, []).append(codename)
    condition = Q()
    for app_label, codenames in by_app.items():
        condition |= Q(content_type__app_label=app_label, codename__in=codenames)
    return permission_model.objects.filter(condition)


@cache_invalidate("permissions:*")
def sync_role_groups(group_model, permission_model, *, using: str = "default") -> None:
    """Create the group of every role and give it exactly the role's existing permissions.

    Takes the models as arguments so that the data migration can pass its historical ones.
    """
    for role in Role.values:
        group, _ = group_model.objects.using(using).get_or_create(name=role)
        group.permissions.set(permissions_for(role, permission_model).using(using))


def role_group(role: str):
    """The group of ``role``, created with its permissions if a flush removed it."""
    group, created = Group.objects.get_or_create(name=role)
    if created:
        group.permissions.set(permissions_for(role, Permission))
    return group
