from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.utils import timezone

from employees import calendar_feed, roles
from employees.roles import Role
from photostudio.models import AuditedModel
from photostudio.phones import validate_phone

__all__ = ["Employee", "EmployeeManager", "Role", "SignIn"]


class EmployeeManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **fields):
        fields["email"] = self.normalize_email(fields.get("email", ""))
        employee = self.model(username=self.model.normalize_username(username), **fields)
        employee.set_password(password)
        employee.save(using=self._db)
        return employee

    def create_superuser(self, username: str, password: str | None = None, **fields):
        fields["role"] = Role.ADMIN
        return self.create_user(username, password, **fields)


# Authentication backends that never grant a permission on a single object: ModelBackend's are
# per model (asked about an object it answers no), Axes's backend only refuses locked-out logins.
_GRANTING_NOTHING_PER_OBJECT = frozenset(
    {"django.contrib.auth.backends.ModelBackend", "axes.backends.AxesStandaloneBackend"}
)


def backends_grant_nothing_per_object() -> bool:
    """Whether every configured authentication backend answers no when asked about one object."""
    return all(path in _GRANTING_NOTHING_PER_OBJECT for path in settings.AUTHENTICATION_BACKENDS)


class Employee(AbstractBaseUser, PermissionsMixin, AuditedModel):
    """A member of the studio's staff and the project's user model."""

    username = models.CharField(
        max_length=150,
        unique=True,
        validators=[UnicodeUsernameValidator()],
        error_messages={"unique": "An employee with that username already exists."},
    )
    full_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True, validators=[validate_phone])
    department = models.CharField(max_length=100, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.RECEPTIONIST, db_index=True)
    is_active = models.BooleanField(default=True)
    calendar_feed_key = models.CharField(
        max_length=calendar_feed.KEY_LENGTH,
        unique=True,
        default=calendar_feed.new_key,
        editable=False,
        help_text="Makes the secret of the employee's calendar feed URL; a new one ends the old URL.",
    )

    objects = EmployeeManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["full_name", "username"]

    # The role whose group this instance is known to belong to; None until saved or loaded.
    _synced_role: str | None = None

    def __str__(self):
        return self.full_name or self.username

    @classmethod
    def from_db(cls, db, field_names, values):
        employee = super().from_db(db, field_names, values)
        employee._synced_role = employee.__dict__.get("role")
        return employee

    def save(self, *args, **kwargs):
        """Save, keeping the superuser flag and the group membership equal to the role.

        Every way an employee is created or changes role (services, admin, factories, shell)
        passes through here, so ``has_perm`` matches the role right after the save.
        """
        update_fields = kwargs.get("update_fields")
        role_saved = update_fields is None or "role" in update_fields
        if role_saved:
            self.is_superuser = self.role == Role.ADMIN
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "is_superuser"}
        super().save(*args, **kwargs)
        if role_saved and self._synced_role != self.role:
            self.groups.set([roles.role_group(self.role)])
            self._synced_role = self.role
            for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache", "_perm_answers"):
                self.__dict__.pop(cache, None)

    @property
    def is_staff(self) -> bool:
        """Admins and managers run the studio from the Django admin; the rest use the staff pages."""
        return self.is_active and self.role in (Role.ADMIN, Role.MANAGER)

    def has_perm(self, perm: str, obj=None) -> bool:
        """Django's answer. An instance given ``_perm_answers`` (a token caller, see
        ``employees.callers``, whose record keeps them for its next requests) remembers its answers
        without an object, since a day list asks the same few for every booking, each through every
        authentication backend; asked about one object, it answers as Django does when no backend
        grants permissions per object. A role change forgets them with the permission caches."""
        answers = self.__dict__.get("_perm_answers")
        if answers is None:
            return super().has_perm(perm, obj)
        if obj is not None:
            if not backends_grant_nothing_per_object():
                return super().has_perm(perm, obj)
            return self.is_active and self.is_superuser
        question = (perm, self.is_active, self.is_superuser)
        answer = answers.get(question)
        if answer is None:
            answer = answers[question] = super().has_perm(perm)
        return answer

    def has_permission(self, code: str) -> bool:
        """Whether the employee may do ``code``: an ``"app.codename"`` permission or one of the
        guide's capabilities such as ``"booking_management"`` (see ``roles.CAPABILITIES``).

        Raises ValueError for an unknown capability, so a typo cannot silently deny or allow.
        """
        if "." in code:
            return self.has_perm(code)
        try:
            required = roles.CAPABILITIES[code]
        except KeyError:
            known = ", ".join(sorted(roles.CAPABILITIES))
            raise ValueError(f"Unknown capability {code!r}; use app.codename or one of: {known}") from None
        return self.has_perms(required)

    def can_manage_employee(self, other: "Employee") -> bool:
        """Whether this employee may edit ``other``'s record, role, MFA and sessions.

        Admins manage everyone; managers manage receptionists and photographers; nobody else
        manages anyone. Editing one's own name, phone and department needs no management right.
        """
        if not self.is_active:
            return False
        if self.role == Role.ADMIN:
            return True
        return self.role == Role.MANAGER and other.pk != self.pk and other.role in roles.MANAGED_BY_MANAGERS

    def can_assign_role(self, other: "Employee", role: str) -> bool:
        """Whether this employee may give ``other`` the role ``role``.

        Needs the right to manage ``other`` and to manage someone holding ``role``; nobody raises
        their own rank. The last active admin rule needs the database: see
        ``services.update_employee``.
        """
        if not self.can_manage_employee(other):
            return False
        if other.pk == self.pk and roles.ROLE_RANK[role] > roles.ROLE_RANK[self.role]:
            return False
        return self.role == Role.ADMIN or role in roles.MANAGED_BY_MANAGERS

    @property
    def mfa_required(self) -> bool:
        """Whether the role must sign in with a second factor (setting ``MFA_REQUIRED_ROLES``)."""
        return self.role in settings.MFA_REQUIRED_ROLES

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def get_short_name(self) -> str:
        return (self.full_name.split() or [self.username])[0]


class SignIn(models.Model):
    """One place an employee is signed in: a browser session or an API token pair.

    Revoking it ends the browser session or blacklists the current refresh token, and stops
    access tokens issued for it (they carry its id in the ``sid`` claim). A token sign-in is also
    ended when one of its rotated-away refresh tokens comes back (``token_reuse_detected_at``).
    """

    class Channel(models.TextChoices):
        BROWSER = "browser", "Browser"
        API = "api", "API token"

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="sign_ins")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    refresh_jti = models.CharField(max_length=255, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    mfa_verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    token_reuse_detected_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a refresh token this sign-in had already exchanged was presented again; it ended then.",
    )

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        indexes = [models.Index(fields=["employee", "expires_at"], name="signin_employee_active_idx")]

    def __str__(self):
        return f"{self.get_channel_display()} sign-in of {self.employee} from {self.ip_address or 'unknown address'}"
