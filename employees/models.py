from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models

from photostudio.models import AuditedModel


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    RECEPTIONIST = "receptionist", "Receptionist"
    PHOTOGRAPHER = "photographer", "Photographer"


class EmployeeManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **fields):
        fields["email"] = self.normalize_email(fields.get("email", ""))
        employee = self.model(username=self.model.normalize_username(username), **fields)
        employee.set_password(password)
        employee.save(using=self._db)
        return employee

    def create_superuser(self, username: str, password: str | None = None, **fields):
        fields.update(role=Role.ADMIN, is_superuser=True)
        return self.create_user(username, password, **fields)


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
    phone = models.CharField(max_length=32, blank=True)
    department = models.CharField(max_length=100, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.RECEPTIONIST, db_index=True)
    is_active = models.BooleanField(default=True)

    objects = EmployeeManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["full_name", "username"]

    def __str__(self):
        return self.full_name or self.username

    @property
    def is_staff(self) -> bool:
        """Admins and managers run the studio from the Django admin; the rest use the staff pages."""
        return self.is_active and self.role in (Role.ADMIN, Role.MANAGER)

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def get_short_name(self) -> str:
        return (self.full_name.split() or [self.username])[0]
