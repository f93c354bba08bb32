from datetime import datetime

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from employees import calendar_feed
from employees.models import Employee, Role, SignIn
from photostudio.api import EmailOrEmptyField, InputSerializer, PasswordField


class LoginSerializer(InputSerializer):
    username = serializers.CharField(max_length=150)
    password = PasswordField()
    mfa_code = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class RefreshSerializer(InputSerializer):
    refresh_token = serializers.CharField(max_length=4096)


class LogoutSerializer(InputSerializer):
    refresh_token = serializers.CharField(max_length=4096, required=False, allow_blank=True, default="")


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.CharField(help_text='Always "bearer".')
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires (JWT_EXPIRATION).")


class EmployeeSerializer(serializers.ModelSerializer):
    email = EmailOrEmptyField(read_only=True)

    class Meta:
        model = Employee
        fields = [
            "id",
            "username",
            "full_name",
            "email",
            "phone",
            "department",
            "role",
            "is_active",
            "last_login",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, employee) -> dict:
        """The declared fields' values, built directly: DRF copies every declared field for each
        serializer it makes, which cost more than the rest of ``GET /employees/profile``
        (``employees/tests/test_api_serializers.py`` holds the two to the same output)."""
        return {
            "id": employee.pk,
            "username": employee.username,
            "full_name": employee.full_name,
            "email": employee.email,
            "phone": employee.phone,
            "department": employee.department,
            "role": employee.role,
            "is_active": employee.is_active,
            "last_login": _local(employee.last_login),
            "created_at": _local(employee.created_at),
            "updated_at": _local(employee.updated_at),
        }


def _local(moment: datetime | None) -> str | None:
    """A time as DRF's DateTimeField writes it: ISO 8601 in the studio's zone, ``Z`` for UTC."""
    if moment is None:
        return None
    written = timezone.localtime(moment).isoformat()
    return written[:-6] + "Z" if written.endswith("+00:00") else written


class MfaStatusSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    required = serializers.BooleanField(help_text="Whether the employee's role demands MFA.")
    backup_codes_left = serializers.IntegerField()

    def to_representation(self, status) -> dict:
        return {"enabled": status.enabled, "required": status.required, "backup_codes_left": status.backup_codes_left}


# Shared, as it keeps no state: a serializer made per profile read was a measurable part of it.
_MFA_STATUS = MfaStatusSerializer()


_CALENDAR_FEED_URL_HELP = (
    "The employee's private calendar feed (iCalendar, RFC 5545) for a calendar app to subscribe to, "
    "opened by the secret in it alone: keep it private. Photographers' feeds hold their own sessions; "
    "holders of `bookings.subscribe_studio_calendar` (front desk, managers) get the whole studio's, or "
    "one space's with `?space=<slug>`."
)


class CalendarFeedSerializer(serializers.Serializer):
    calendar_feed_url = serializers.URLField(help_text=_CALENDAR_FEED_URL_HELP)


class ProfileSerializer(EmployeeSerializer):
    """The employee with their MFA status (``context["mfa"]``), effective permissions and calendar
    feed URL (built on the host of ``context["request"]``)."""

    mfa = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()
    calendar_feed_url = serializers.SerializerMethodField(help_text=_CALENDAR_FEED_URL_HELP)

    class Meta(EmployeeSerializer.Meta):
        fields = [*EmployeeSerializer.Meta.fields, "mfa", "permissions", "calendar_feed_url"]
        read_only_fields = fields

    @extend_schema_field(MfaStatusSerializer)
    def get_mfa(self, employee) -> dict:
        return _MFA_STATUS.to_representation(self.context["mfa"])

    def get_permissions(self, employee) -> list[str]:
        return sorted(employee.get_all_permissions())

    @extend_schema_field(serializers.URLField(help_text=_CALENDAR_FEED_URL_HELP))
    def get_calendar_feed_url(self, employee) -> str:
        return calendar_feed.feed_url(employee, self.context["request"])

    def to_representation(self, employee) -> dict:
        return super().to_representation(employee) | {
            "mfa": self.get_mfa(employee),
            "permissions": self.get_permissions(employee),
            "calendar_feed_url": self.get_calendar_feed_url(employee),
        }


class EmployeeUpdateSerializer(InputSerializer):
    """Any subset of the editable fields; the ones left out stay as they are."""

    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = EmailOrEmptyField(required=False)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    department = serializers.CharField(max_length=100, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class SignInSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(help_text="Whether this request was made with this sign-in.")
    ended_at = serializers.DateTimeField(
        source="revoked_at", read_only=True, allow_null=True, help_text="null while active."
    )
    token_reuse_detected_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text=(
            "Set when the sign-in was ended because one of its refresh tokens was presented again after "
            "it had been exchanged: someone else may hold a copy of its tokens."
        ),
    )

    class Meta:
        model = SignIn
        fields = [
            "id",
            "channel",
            "ip_address",
            "user_agent",
            "mfa_verified",
            "created_at",
            "last_seen_at",
            "current",
            "ended_at",
            "token_reuse_detected_at",
        ]
        read_only_fields = fields

    def get_current(self, sign_in) -> bool:
        return sign_in.pk == self.context.get("current_sign_in_id")


class CodeSerializer(InputSerializer):
    code = serializers.CharField(max_length=32)


class PasswordSerializer(InputSerializer):
    password = PasswordField(help_text="Your current password.")


class PasswordAndCodeSerializer(PasswordSerializer):
    code = serializers.CharField(max_length=32, help_text="A code from the authenticator app, or a backup code.")


class EnrolmentSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32 secret, for typing into an app by hand.")
    otpauth_url = serializers.CharField()
    qr_svg = serializers.CharField(help_text="The otpauth URL as an SVG QR code.")


class BackupCodesSerializer(serializers.Serializer):
    backup_codes = serializers.ListField(child=serializers.CharField(), help_text="Shown once; each works once.")


class RevokedSerializer(serializers.Serializer):
    revoked = serializers.IntegerField()
