"""What the admin forms accept: each field checked on its own, errors kept next to the field, and a
blank field in an edit meaning "keep what is stored" (a blank never erases a channel or a phone)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from anxin.phone import PhoneNumberError, normalise_phone
from server.notify_channels import url_understood
from server.permissions import ROLES as STAFF_ROLES

# Field errors, in both languages: the page shows the one of its language next to the field.
MESSAGES = {
    "required": ("必填", "Required"),
    "bad_url": (
        "不是可用的通知地址：{value}（例如 mailto://… 或 wecombot://…）",
        "Not a notification address apprise understands: {value} (e.g. mailto://… or wecombot://…)",
    ),
    "bad_phone": ("不是有效的电话号码：{value}", "Not a valid phone number: {value}"),
    "bad_year": ("出生年份应为 4 位数字，例如 1938", "Birth year must be four digits, e.g. 1938"),
    "unknown_resident": ("没有这个老人：{value}", "No such resident: {value}"),
    "unknown_gateway": ("没有这个网关：{value}", "No such gateway: {value}"),
    "exists": ("已存在：{value}", "Already exists: {value}"),
    "bad_id": ("只能用小写字母、数字和 - _ .：{value}", "Only lower-case letters, digits and - _ . : {value}"),
    "bad_password": ("密码不符合要求：{value}", "Password refused: {value}"),
    "bad_choice": ("不在可选范围内：{value}", "Not one of the choices: {value}"),
}

# What a gateway can pair (gateway/config.py's families; the roles its parsers and rules know).
FAMILIES = ("zigbee2mqtt", "native", "ble-bpm", "ble-gatt", "rflink")
ROLES = (
    "sos_button",
    "fall_radar",
    "bp_monitor",
    "glucose_meter",
    "pulse_oximeter",
    "scale",
    "thermometer",
    "wearable",
    "door",
    "motion",
    "presence",
    "smoke",
    "climate",
)


@dataclass
class Checked:
    """A form's cleaned values and, per field, the problems found (empty when it may be saved)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    def fail(self, name: str, key: str, **fields: str) -> None:
        """Record a problem with one field (the first one found is shown)."""
        self.errors.setdefault(name, (key, fields))

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong."""
        return not self.errors

    def messages(self, language: str) -> dict[str, str]:
        """Each field's problem in the page's language."""
        index = 1 if language == "en" else 0
        return {name: MESSAGES[key][index].format(**fields) for name, (key, fields) in self.errors.items()}


def split_list(text: str) -> list[str]:
    """Comma-separated entries (Chinese or ASCII commas), trimmed, empties dropped."""
    return [part.strip() for part in text.replace("，", ",").split(",") if part.strip()]


def check_phone(checked: Checked, name: str, text: str) -> None:
    """Normalise a typed phone number into checked.values, or record why it is not one."""
    if not text.strip():
        checked.values[name] = None
        return
    try:
        checked.values[name] = normalise_phone(text)
    except PhoneNumberError:
        checked.fail(name, "bad_phone", value=text.strip())


def check_urls(checked: Checked, name: str, text: str) -> None:
    """Notification URLs, each one apprise understands."""
    urls = split_list(text)
    for url in urls:
        if not url_understood(url):
            checked.fail(name, "bad_url", value=url)
    checked.values[name] = urls


def check_required(checked: Checked, form: dict[str, str], *names: str) -> None:
    """Fields that may not be blank when a new record is made."""
    for name in names:
        if not form.get(name, "").strip():
            checked.fail(name, "required")


def keep_stored(submitted: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """Submitted values, where a blank (None, "", []) keeps the stored one."""
    return {k: (stored.get(k) if v in (None, "", []) else v) for k, v in submitted.items()}


def caregiver_form(form: dict[str, str], existing: bool) -> Checked:
    """The pairing form: caregiver code, name, relation, phone and notification URLs."""
    checked = Checked()
    check_required(checked, form, "resident", "code", *(() if existing else ("name",)))
    checked.values.update(
        code=form.get("code", "").strip(),
        name=form.get("name", "").strip(),
        relation=form.get("relation", "").strip() or None,
    )
    check_phone(checked, "phone", form.get("phone", ""))
    check_urls(checked, "notify_url", form.get("notify_url", ""))
    return checked


def resident_form(form: dict[str, str]) -> Checked:
    """The resident form: code and name required, a four-digit birth year, a phone number."""
    checked = Checked()
    check_required(checked, form, "code", "name")
    year = form.get("birth_year", "").strip()
    if year and not (year.isdigit() and len(year) == 4 and 1900 <= int(year) <= 2100):
        checked.fail("birth_year", "bad_year")
    checked.values["birth_year"] = int(year) if year.isdigit() else None
    check_phone(checked, "phone", form.get("phone", ""))
    return checked


def account_form(form: dict[str, str]) -> Checked:
    """A new staff account: user name, a role from the table, phone and channels (the password is checked
    by server/auth.py's rules when the account is made)."""
    checked = Checked()
    check_required(checked, form, "username", "display_name", "role")
    if form.get("role") and form["role"] not in STAFF_ROLES:
        checked.fail("role", "bad_choice", value=form["role"])
    check_phone(checked, "phone", form.get("phone", ""))
    check_urls(checked, "notify_url", form.get("notify_url", ""))
    return checked
