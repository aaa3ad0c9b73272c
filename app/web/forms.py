"""What every form shares: the submitted values (kept, never lost) and messages per field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Optional

from app.i18n import _

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]+$")
PHONE_DIGITS = (7, 15)  # ITU E.164 allows at most 15 digits


@dataclass
class Form:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: object, fields: tuple[str, ...]) -> Form:
        getter = getattr(data, "get", None)
        values = {name: str(getter(name, "") if getter else "") for name in fields}
        return cls(values=values)

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
        value = self.values.get(name, "").strip()
        if not value.isdigit() or not low <= int(value) <= high:
            self.error(name, _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high})
            return None
        return int(value)

    def optional_date(self, name: str) -> Optional[date]:
        value = self.values.get(name, "").strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.error(name, _("Enter a real date, like 2026-03-31."))
            return None


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
