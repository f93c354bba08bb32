"""Typed domain failures. Services raise these; the API's exception handler and the HTML views
translate them, each by its stable ``code``."""


class DomainError(Exception):
    code = "domain_error"
    default_message = "The request cannot be carried out."

    def __init__(self, message: str | None = None, *, details: dict | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)


class ValidationFailed(DomainError):
    code = "validation_failed"
    default_message = "Some of the values are not valid."


class SkippedTime(ValidationFailed):
    """A time on the studio's wall clock that the clocks skip on ``day`` (the night they go
    forward), repeated onto that day from another: refused like any bad value, with the same code.
    A series booked skipping its conflicts leaves that date instead, as ``refusal_code``."""

    refusal_code = "skipped_time"

    def __init__(self, message: str, *, day, details: dict | None = None):
        super().__init__(message, details=details)
        self.day = day


class RepeatedTime(ValidationFailed):
    """A time on the studio's wall clock that the clocks show twice on one day (the night they go
    back), given for several days at once: the caller must say which moment is meant that day.
    ``moments`` holds the moments the start and the end may be (two where repeated). Refused like
    any bad value, with the same code."""

    def __init__(self, message: str, *, moments: dict[str, list], details: dict | None = None):
        super().__init__(message, details=details)
        self.moments = moments


class NotFound(DomainError):
    code = "not_found"
    default_message = "No such object."


class PermissionDenied(DomainError):
    code = "permission_denied"
    default_message = "You do not have permission to do this."


class Conflict(DomainError):
    """The request is well-formed but clashes with the current state of the data."""

    code = "conflict"
    default_message = "The request conflicts with the current state."


class ConcurrentChange(Conflict):
    code = "concurrent_change"
    default_message = "Someone else changed this at the same time; reload and try again."


class BookingChanged(DomainError):
    """The booking was changed by someone else since the caller read the revision it names (an
    ``If-Match`` or a form opened earlier): nothing was changed; ``details`` gives the revision now."""

    http_status = 412
    code = "booking_changed"
    default_message = "Someone else changed this booking since you read it; read it again and redo your change."


class BookingOverlap(Conflict):
    """The space is already held, buffer included, by another pending, confirmed or running booking."""

    code = "booking_overlap"
    default_message = "The space is already booked at that time."


class SpaceClosed(Conflict):
    """The booking would touch a closure of its space or of the whole studio, clean-up buffer included;
    ``details["closure"]`` names it (id, reason, start, end, space)."""

    code = "space_closed"
    default_message = "The space is closed at that time."


class InvalidTransition(Conflict):
    """The booking cannot move to the requested state from the state it is in."""

    code = "invalid_transition"
    default_message = "The booking cannot move to that state."


class TooEarly(Conflict):
    """The session may not begin or complete yet; ``details["not_before"]`` says from when."""

    code = "too_early"
    default_message = "It is too early for this."


class BookingClosed(Conflict):
    """The booking has ended its life (completed, cancelled, no-show) or is running, so it cannot be moved."""

    code = "booking_closed"
    default_message = "This booking can no longer be changed."


class SeriesConflict(Conflict):
    """Some dates of a recurring series cannot be booked or moved; ``details["conflicts"]`` lists
    each with the code and message of its refusal. Nothing was changed."""

    code = "series_conflict"
    default_message = "Some dates of the series are not free."


class WaitlistEntryClosed(Conflict):
    """The waitlist entry is no longer waiting (booked, withdrawn, or expired: its start has passed)."""

    code = "waitlist_entry_closed"
    default_message = "This waitlist entry is no longer waiting."


class WaitlistSlotFree(Conflict):
    """Nothing holds the asked slot: book it instead of waiting for it."""

    code = "waitlist_slot_free"
    default_message = "The space is free at that time: book it instead."


class AlreadyOnWaitlist(Conflict):
    """The client already waits for this space at an overlapping time."""

    code = "already_on_waitlist"
    default_message = "The client is already on the waitlist for this space at that time."


class AuthenticationError(DomainError):
    """A sign-in or token was refused; answered with 401 so clients know to (re)authenticate."""

    http_status = 401
    code = "authentication_failed"
    default_message = "The sign-in was refused."


class InvalidCredentials(AuthenticationError):
    code = "invalid_credentials"
    default_message = "The username or password is not correct."


class MfaRequired(AuthenticationError):
    """The password was right and the account has MFA: send ``mfa_code`` as well."""

    code = "mfa_required"
    default_message = "This account uses two-factor authentication: send the code from the authenticator app."


class InvalidMfaCode(AuthenticationError):
    code = "invalid_mfa_code"
    default_message = "The two-factor code is not correct, has expired or was already used."


class InvalidToken(AuthenticationError):
    code = "invalid_token"
    default_message = "The token is invalid, expired or revoked."


class MfaEnrollmentRequired(PermissionDenied):
    """The role demands MFA and the account has none: it must enrol in the web profile first."""

    code = "mfa_enrollment_required"
    default_message = (
        "Your role requires two-factor authentication. Sign in on the web and set it up under Profile first."
    )


class LockedOut(DomainError):
    """Too many failed sign-ins for this username: refused until the lock expires or a manager unlocks it."""

    http_status = 429
    code = "locked_out"
    default_message = "Too many failed sign-ins: this account is locked for now. Try again later or ask a manager."


class LastAdmin(Conflict):
    code = "last_admin"
    default_message = "The studio must keep at least one active admin."


class DeliveryNotFailed(Conflict):
    """Only a delivery that ran out of attempts can be re-run; the others are still on their way or done."""

    code = "delivery_not_failed"
    default_message = "Only failed deliveries can be re-run."


class IdempotencyKeyReused(DomainError):
    """The caller already sent a different request with this ``Idempotency-Key``."""

    http_status = 422
    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was already used for a different request: send a new key for a new request."
