"""Staff accounts: argon2 password hashes and signed, expiring bearer tokens."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Staff
from server.errors import ServerError
from server.passwords import WeakPassword, check_password
from server.permissions import ROLES, roles_for

# Who may work alarms at the desk; doctors see health data, not the desk's administration (server/permissions.py).
DESK_ROLES = roles_for("alarm.work")
HEALTH_ROLES = roles_for("resident.read")
# The care record (profiles, assessments, helpers, contacts): coordinators run it; the desk and doctors read it.
CARE_WRITE_ROLES = roles_for("service_record.write")
CARE_READ_ROLES = roles_for("service_record.read")

# OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): a sign-in stays well under a second on a
# busy 2-core server (the library default takes seconds there), as OWASP recommends as a minimum.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


class AuthError(ServerError):
    """Wrong credentials, or a token that is forged, expired or for a disabled account."""


@dataclass(frozen=True, slots=True)
class StaffIdentity:
    """Who is making a request: what handlers need, detached from any database session."""

    id: int
    username: str
    display_name: str
    role: str
    language: str
    session_version: int = 0

    @classmethod
    def of(cls, staff: Staff) -> StaffIdentity:
        """The identity of a staff row."""
        return cls(staff.id, staff.username, staff.display_name, staff.role, staff.language, staff.session_version or 0)


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the hash (never raises on bad input)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against this when the user does not exist keeps the response time the same,
# so a login form does not tell an attacker which usernames exist.
_DUMMY_HASH = hash_password("not-a-real-password")


def authenticate(session: Session, username: str, password: str) -> Staff:
    """The active staff row whose password this is; raises AuthError otherwise."""
    staff = session.scalars(select(Staff).where(Staff.username == username)).first()
    if staff is None:
        verify_password(_DUMMY_HASH, password)
        raise AuthError("wrong username or password")
    if not verify_password(staff.password_hash, password) or not staff.active:
        raise AuthError("wrong username or password")
    return staff


class TokenSigner:
    """Signs and checks bearer tokens (also carried in the `anxin_session` cookie)."""

    def __init__(self, secret: str, ttl_s: int) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="anxin-staff-token")
        self.ttl_s = ttl_s

    def issue(self, staff: Staff | StaffIdentity) -> str:
        """A token naming the account and its session version; the role is re-read from the database on every use."""
        return self._s.dumps({"sub": staff.id, "u": staff.username, "v": staff.session_version})

    def subject(self, token: str) -> tuple[int, int]:
        """The staff id and session version in a valid token; raises AuthError."""
        try:
            claims = self._s.loads(token, max_age=self.ttl_s)
            return int(claims["sub"]), int(claims["v"])
        except SignatureExpired as exc:
            raise AuthError("the session has expired; sign in again") from exc
        except (BadSignature, KeyError, TypeError, ValueError) as exc:
            raise AuthError("not a valid token") from exc


def identity_for(session: Session, tokens: TokenSigner, token: str) -> StaffIdentity:
    """The active account a token names, if the token's session has not been ended; raises AuthError."""
    staff_id, version = tokens.subject(token)
    staff = session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise AuthError("this account no longer exists or is disabled")
    if version != (staff.session_version or 0):
        raise AuthError("this session has ended (signed out, password changed or account disabled); sign in again")
    return StaffIdentity.of(staff)


def end_sessions(staff: Staff) -> None:
    """Make every token issued so far for this account invalid at once (the caller commits)."""
    staff.session_version = (staff.session_version or 0) + 1


def set_password(staff: Staff, password: str) -> None:
    """A new password under the policy; every existing session of the account ends."""
    try:
        check_password(password, staff.username)
    except WeakPassword as exc:
        raise AuthError(str(exc)) from exc
    staff.password_hash = hash_password(password)
    end_sessions(staff)


def set_active(staff: Staff, active: bool) -> None:
    """Disable or enable an account; disabling ends its sessions."""
    staff.active = active
    if not active:
        end_sessions(staff)


def staff_by_username(session: Session, username: str) -> Staff:
    """The account with this username; raises AuthError."""
    staff = session.scalars(select(Staff).where(Staff.username == username)).first()
    if staff is None:
        raise AuthError(f"no account {username!r}")
    return staff


def upsert_staff(
    session: Session,
    username: str,
    role: str,
    display_name: str | None = None,
    password: str | None = None,
    password_hash: str | None = None,
    language: str = "zh-CN",
    phone: str | None = None,
    notify_urls: list[str] | None = None,
) -> Staff:
    """Create or update an account by username; the caller commits."""
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    staff = session.scalars(select(Staff).where(Staff.username == username)).first()
    if (
        password is not None
        and password_hash is None
        and not (staff is not None and staff.password_hash and verify_password(staff.password_hash, password))
    ):
        try:  # checked before anything changes: a refused password leaves the account as it was
            check_password(password, username)
        except WeakPassword as exc:
            raise AuthError(str(exc)) from exc
    if staff is None:
        if password is None and password_hash is None:
            raise AuthError(f"user {username!r} needs a password")
        staff = Staff(username=username, active=True, session_version=0)
        session.add(staff)
    staff.role, staff.language, staff.phone = role, language, phone
    staff.display_name = display_name or staff.display_name or username
    staff.notify_urls = list(notify_urls or [])
    if password_hash is not None:
        staff.password_hash = password_hash
    elif password is not None and not (staff.password_hash and verify_password(staff.password_hash, password)):
        staff.password_hash = hash_password(password)
    session.flush()
    return staff
