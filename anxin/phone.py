"""Phone numbers as people type them, written once in E.164 (`+8613900139000`) with `phonenumbers`.

A number a network cannot route must be refused when the configuration or the provisioning file is
loaded, not discovered in an emergency: an SMS to `+86 139 0013 9000` taken literally goes out as an
alphanumeric address that no network delivers.
"""

from __future__ import annotations

import re

import phonenumbers

# Numbers written without a country code are read as numbers of this region (the homes are in China).
DEFAULT_REGION = "CN"

# What people type around the digits: spaces, dashes, dots, brackets, a leading + or 00.
_TYPED = re.compile(r"\+?\(?[0-9][0-9 ()./\-]*")


class PhoneNumberError(ValueError):
    """Text that cannot be a phone number; says which text and why."""


def normalise_phone(text: str, region: str = DEFAULT_REGION) -> str:
    """The E.164 form of a typed number (`+86 139-0013-9000` -> `+8613900139000`); raises PhoneNumberError."""
    typed = text.strip()
    if not _TYPED.fullmatch(typed):
        raise PhoneNumberError(
            f"{text!r} is not a phone number: only digits, spaces, dashes, dots, brackets and a leading + are allowed"
        )
    try:
        number = phonenumbers.parse(typed, region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneNumberError(f"{text!r} is not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        # Validity, not mere length: a mobile number one digit short (`1390013900`) or a service
        # code (`10086`) must be refused, not discovered when no caregiver gets the alarm.
        raise PhoneNumberError(
            f"{text!r} is not a valid phone number (read as {region} when it has no "
            "country code): check the digits, or write it with its country code (+86 …)"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_known(region: str) -> bool:
    """Whether `phonenumbers` knows the region code (e.g. CN, HK, US)."""
    return region in phonenumbers.SUPPORTED_REGIONS
