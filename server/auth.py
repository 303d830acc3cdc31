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

ROLES = ("staff", "supervisor", "doctor", "admin", "coordinator")
# Who may work alarms at the desk; doctors see health data, not the desk's administration.
DESK_ROLES = ("staff", "supervisor", "admin")
HEALTH_ROLES = ("staff", "supervisor", "doctor", "admin")
# The care record (profiles, assessments, helpers, contacts): coordinators run it; the desk and doctors read it.
CARE_WRITE_ROLES = ("coordinator", "supervisor", "admin")
CARE_READ_ROLES = ("coordinator", "staff", "supervisor", "doctor", "admin")

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

    @classmethod
    def of(cls, staff: Staff) -> StaffIdentity:
        """The identity of a staff row."""
        return cls(staff.id, staff.username, staff.display_name, staff.role, staff.language)


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
        """A token naming the account; the role is re-read from the database on every use."""
        return self._s.dumps({"sub": staff.id, "u": staff.username})

    def subject(self, token: str) -> int:
        """The staff id in a valid token; raises AuthError."""
        try:
            claims = self._s.loads(token, max_age=self.ttl_s)
            return int(claims["sub"])
        except SignatureExpired as exc:
            raise AuthError("the session has expired; sign in again") from exc
        except (BadSignature, KeyError, TypeError, ValueError) as exc:
            raise AuthError("not a valid token") from exc


def identity_for(session: Session, tokens: TokenSigner, token: str) -> StaffIdentity:
    """The active account a token names; raises AuthError."""
    staff = session.get(Staff, tokens.subject(token))
    if staff is None or not staff.active:
        raise AuthError("this account no longer exists or is disabled")
    return StaffIdentity.of(staff)


def upsert_staff(
    session: Session, username: str, role: str, display_name: str | None = None, password: str | None = None,
    password_hash: str | None = None, language: str = "zh-CN", phone: str | None = None,
    notify_urls: list[str] | None = None,
) -> Staff:
    """Create or update an account by username; the caller commits."""
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    staff = session.scalars(select(Staff).where(Staff.username == username)).first()
    if staff is None:
        if password is None and password_hash is None:
            raise AuthError(f"user {username!r} needs a password")
        staff = Staff(username=username, active=True)
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
