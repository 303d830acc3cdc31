"""Optional second factor for administrators and supervisors: RFC 6238 one-time codes (pyotp)."""

from __future__ import annotations

import pyotp

from server.db.models import Staff
from server.errors import ServerError

ISSUER = "Anxin 安心"
# Who may turn it on: the accounts that can change who gets called and switch protection off.
TOTP_ROLES = ("admin", "supervisor")


class TotpError(ServerError):
    """A second-factor step that cannot be done (wrong role, wrong code, not set up)."""


def start(staff: Staff) -> str:
    """A new secret for the account (not yet required), and the otpauth:// URI an authenticator app scans."""
    if staff.role not in TOTP_ROLES:
        raise TotpError(f"the second factor is for {' and '.join(TOTP_ROLES)}; you are {staff.role}")
    staff.totp_secret, staff.totp_enabled = pyotp.random_base32(), False
    return pyotp.TOTP(staff.totp_secret).provisioning_uri(name=staff.username, issuer_name=ISSUER)


def confirm(staff: Staff, code: str) -> None:
    """Turn the second factor on once the app shows a right code."""
    if not staff.totp_secret:
        raise TotpError("start the set-up first")
    if not pyotp.TOTP(staff.totp_secret).verify(code.strip(), valid_window=1):
        raise TotpError("that code is not right; check the phone's clock and try the next one")
    staff.totp_enabled = True


def passes(staff: Staff, code: str | None) -> bool:
    """Whether a sign-in passes the second factor (always, when it is not on)."""
    if not staff.totp_enabled:
        return True
    return bool(code) and pyotp.TOTP(staff.totp_secret or "").verify((code or "").strip(), valid_window=1)


def reset(staff: Staff) -> None:
    """Switch the second factor off (an administrator's help for a lost phone)."""
    staff.totp_secret, staff.totp_enabled = None, False
