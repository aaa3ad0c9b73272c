"""What every form shares: the submitted values (kept, never lost) and messages per field.

Every field a form reads is bounded before anything is stored, searched or audited: by the limit
its form declares (the column's length, or the text limit of a Text column), else by FIELD_MAX.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Mapping, Optional

from app.i18n import _

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A field without a declared limit is a short one: an id, a choice, a date, a version.
FIELD_MAX = 200
# PostgreSQL cannot store NUL in text, and no other control character belongs in what people type.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A database integer column holds at most this (PostgreSQL's integer); ids and versions beyond are no record.
INT_MAX = 2**31 - 1
# Dates people enter in care are in living memory or the plannable future; beyond, date arithmetic overflows.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def whole(value: object, *, low: int = 0, high: int = INT_MAX) -> Optional[int]:
    """The number an ASCII digit string spells, within [low, high]; None for anything else.

    str.isdigit() also accepts digits such as "²" that int() refuses, and int() accepts digits of
    other scripts; only 0-9 count here.
    """
    text = str(value).strip()
    if not text or len(text) > 12 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if low <= number <= high else None


KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def idempotency_key() -> str:
    """A fresh key for one rendering of a form: sending that form twice is recognised as one submission."""
    return secrets.token_urlsafe(18)


def submitted_key(data: object) -> str:
    getter = getattr(data, "get", None)
    key = getter("key", "") if getter else ""
    return key if isinstance(key, str) and KEY_RE.match(key) else ""


def iso_day(value: str) -> Optional[date]:
    """The ISO date a string spells, if it is a real one between EARLIEST_DATE and LATEST_DATE."""
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if EARLIEST_DATE <= parsed <= LATEST_DATE else None


def query_text(value: str, limit: int = FIELD_MAX) -> str:
    """A search or filter term as it may reach a query: control characters dropped, cut at `limit`."""
    return CONTROL_RE.sub("", value).strip()[:limit]
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]+$")
PHONE_DIGITS = (7, 15)  # ITU E.164 allows at most 15 digits


@dataclass
class Form:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: object, fields: tuple[str, ...], limits: Optional[Mapping[str, int]] = None) -> Form:
        """The submitted fields as text, each checked against its limit and for control characters."""
        getter = getattr(data, "get", None)
        form = cls()
        for name in fields:
            raw = getter(name, "") if getter else ""
            if not isinstance(raw, str):  # a file where text belongs
                form.values[name] = ""
                form.error(name, _("Type this in as text."))
                continue
            limit = (limits or {}).get(name, FIELD_MAX)
            if CONTROL_RE.search(raw):
                raw = CONTROL_RE.sub("", raw)
                form.error(name, _("Remove the invisible control characters from this text."))
            if len(raw.strip()) > limit:
                form.error(name, _("Use at most {limit} characters.").format(limit=limit))
                # What was typed is kept for correcting, but a flood is not echoed back whole.
                raw = raw[: limit * 2]
            form.values[name] = raw
        return form

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def required(self, name: str, message: Optional[str] = None) -> str:
        value = self.values.get(name, "").strip()
        if not value:
            self.error(name, message or _("This field is required."))
        return value

    def email(self, name: str) -> str:
        value = self.required(name, _("Enter an email address."))
        if value and not EMAIL_RE.match(value):
            self.error(name, _("Enter an email address like name@example.org."))
        return value.lower()

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self.values.get(name, "")
        if value not in choices:
            self.error(name, _("Choose one of the options."))
        return value

    def whole_number(self, name: str, low: int, high: int) -> Optional[int]:
        number = whole(self.values.get(name, ""), low=low, high=high)
        if number is None:
            self.error(name, _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high})
        return number

    def optional_date(self, name: str) -> Optional[date]:
        value = self.values.get(name, "").strip()
        if not value:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.error(name, _("Enter a real date, like 2026-03-31."))
            return None
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            self.error(name, _("Enter a date between {first} and {last}.").format(
                first=EARLIEST_DATE.isoformat(), last=LATEST_DATE.isoformat()))
            return None
        return day

    def required_date(self, name: str, message: str) -> Optional[date]:
        if not self.values.get(name, "").strip():
            self.error(name, message)
            return None
        return self.optional_date(name)


def max_length(form: Form, name: str, limit: int) -> str:
    value = form.values.get(name, "").strip()
    if len(value) > limit:
        form.error(name, _("Use at most {limit} characters.").format(limit=limit))
    return value


def phone(form: Form, name: str) -> str:
    """An optional phone number, checked for its characters and its number of digits."""
    value = form.values.get(name, "").strip()
    if not value:
        return ""
    digits = sum(c.isdigit() for c in value)
    if not PHONE_RE.match(value) or not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]:
        form.error(name, _("Enter a phone number like 01632 960123 or +44 7700 900123."))
    return value


def optional_email(form: Form, name: str) -> str:
    value = form.values.get(name, "").strip()
    if value and not EMAIL_RE.match(value):
        form.error(name, _("Enter an email address like name@example.org."))
    return value.lower()
