"""Who is calling: one cached record per token sign-in, so an API request authenticates, checks
its sign-in and knows its permissions without asking the database.

The record (employee, sign-in facts, permission set) lives in ``photostudio.cache`` under the
namespaces ``employee:<id>`` and ``permissions``. Any change to the employee, their groups or
permissions, their MFA devices or any of their sign-ins drops their records
(``cache.invalidate_for_change``): at once for the change's own transaction, and in L2 at its
commit, so no request that read the old rows meanwhile keeps them. Records are read through L2
versions on every request, so a revoked sign-in is refused at once by every app process.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from employees.models import Employee, SignIn
from employees.selectors import MFA_NAMESPACE
from photostudio.cache import cache

PERMISSIONS_NAMESPACE = "permissions"
# Kept out of the cache: nothing an authenticated request does needs the password hash.
_UNCACHED_FIELDS = frozenset({"password"})


def employee_namespace(employee_id: int) -> str:
    return f"employee:{employee_id}"


@dataclass(frozen=True)
class Caller:
    """What one token sign-in says about its employee, as the database said it when cached."""

    employee_fields: tuple[tuple[str, object], ...]
    user_permissions: frozenset[str]
    group_permissions: frozenset[str]
    sign_in_id: int
    revoked: bool
    expires_at: datetime
    mfa_verified: bool
    last_seen_at: datetime

    def __post_init__(self):
        # Employee.has_perm's answers, which follow from the fields above, for this copy's next
        # requests (a day list asks a handful of questions on every one). Not pickled: each
        # process, and each copy read from L2, starts without any.
        object.__setattr__(self, "_permission_answers", {})

    def __getstate__(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if name != "_permission_answers"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        object.__setattr__(self, "_permission_answers", {})

    def signed_in(self, now: datetime) -> bool:
        return not self.revoked and self.expires_at > now

    def employee(self) -> Employee:
        """The employee, built without a query, with their permissions already known to has_perm."""
        names = [name for name, _ in self.employee_fields]
        employee = Employee.from_db("default", names, [value for _, value in self.employee_fields])
        # ModelBackend's own per-instance caches (see ModelBackend.get_all_permissions).
        employee._user_perm_cache = set(self.user_permissions)
        employee._group_perm_cache = set(self.group_permissions)
        employee._perm_cache = set(self.user_permissions | self.group_permissions)
        employee._perm_answers = self._permission_answers  # see Employee.has_perm
        return employee


def caller(*, employee_id: int, sign_in_id: int) -> tuple[Caller | None, str | None]:
    """The record of ``sign_in_id`` of ``employee_id`` (None when there is no such sign-in) and
    the cache key it is filed under (None with L2 unreachable). No query when cached."""
    key = cache.versioned_key(f"caller:{sign_in_id}", namespaces=record_namespaces(employee_id))
    record = cache.get_versioned(key) if key is not None else None
    if record is None:
        record = _load(employee_id=employee_id, sign_in_id=sign_in_id)
        if record is not None and key is not None:
            cache.set_versioned(key, record)
    return record, key


def note_activity(record: Caller, key: str | None, *, now: datetime, resolution) -> None:
    """Move the sign-in's "last seen" to ``now`` at most once per ``resolution``. The record is
    filed again under the versions it was read with, so it cannot outlive a change made since."""
    if now - record.last_seen_at < resolution:
        return
    SignIn.objects.filter(pk=record.sign_in_id).update(last_seen_at=now)
    if key is not None:
        cache.set_versioned(key, replace(record, last_seen_at=now))


def record_namespaces(employee_id: int) -> list[str]:
    """The namespaces a change to which drops ``employee_id``'s records."""
    return [employee_namespace(employee_id), PERMISSIONS_NAMESPACE]


def _load(*, employee_id: int, sign_in_id: int) -> Caller | None:
    sign_in = SignIn.objects.select_related("employee").filter(pk=sign_in_id, employee_id=employee_id).first()
    if sign_in is None:
        return None
    employee = sign_in.employee
    backend = ModelBackend()
    return Caller(
        employee_fields=tuple(
            (field.attname, getattr(employee, field.attname))
            for field in Employee._meta.concrete_fields
            if field.attname not in _UNCACHED_FIELDS
        ),
        user_permissions=frozenset(backend.get_user_permissions(employee)),
        group_permissions=frozenset(backend.get_group_permissions(employee)),
        sign_in_id=sign_in.pk,
        revoked=sign_in.revoked_at is not None,
        expires_at=sign_in.expires_at,
        mfa_verified=sign_in.mfa_verified,
        last_seen_at=sign_in.last_seen_at,
    )


def forget(*namespaces: str) -> None:
    cache.invalidate_for_change(*namespaces)


def _employee_changed(sender, instance, **kwargs) -> None:
    if not kwargs.get("raw"):
        forget(employee_namespace(instance.pk))


def _owner_changed(sender, instance, **kwargs) -> None:
    """A sign-in, an MFA device or a backup code of an employee changed."""
    if kwargs.get("raw"):
        return
    employee_id = getattr(instance, "employee_id", None) or getattr(instance, "user_id", None)
    if employee_id is None and isinstance(instance, StaticToken):
        employee_id = StaticDevice.objects.filter(pk=instance.device_id).values_list("user_id", flat=True).first()
    if employee_id is not None:
        forget(employee_namespace(employee_id))
    if not isinstance(instance, SignIn):
        forget(MFA_NAMESPACE)


def _memberships_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """An employee's groups or own permissions, or a group's permissions, changed."""
    if not action.startswith("post_"):
        return
    if isinstance(instance, Employee):
        forget(employee_namespace(instance.pk))
    else:
        forget(PERMISSIONS_NAMESPACE)


def _permissions_deleted(sender, instance, **kwargs) -> None:
    """A group or a permission was deleted: its memberships went with it, without m2m_changed."""
    forget(PERMISSIONS_NAMESPACE)


def connect() -> None:
    post_save.connect(_employee_changed, sender=Employee, dispatch_uid="employees.callers.employee_saved")
    post_delete.connect(_employee_changed, sender=Employee, dispatch_uid="employees.callers.employee_deleted")
    for model in (SignIn, TOTPDevice, StaticDevice, StaticToken):
        uid = f"employees.callers.{model._meta.label_lower}"
        post_save.connect(_owner_changed, sender=model, dispatch_uid=f"{uid}.saved")
        post_delete.connect(_owner_changed, sender=model, dispatch_uid=f"{uid}.deleted")
    for model in (Group, Permission):
        post_delete.connect(
            _permissions_deleted, sender=model, dispatch_uid=f"employees.callers.{model._meta.label_lower}.deleted"
        )
    for through in (Employee.groups.through, Employee.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_memberships_changed, sender=through, dispatch_uid=f"employees.callers.{through.__name__}")
