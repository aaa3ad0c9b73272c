"""What every form shares: the submitted values (kept, never lost), messages per field, and the three-way
merge of an edit made on an older version of a record.

Every versioned form carries, beside each field, the value the person saw when the form was drawn (its
base, in hidden `base.<name>` fields). When a save is refused because someone else saved first, each field
is decided on its own: a field only one of the two changed takes that one's value, so nobody's change is
silently reverted; only a field both changed, differently, is put to the person, theirs beside the other.

Every field a form reads is bounded before anything is stored, searched or audited: by the limit
its form declares (the column's length, or the text limit of a Text column), else by FIELD_MAX.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Awaitable, Callable, Mapping, Optional

from litestar.datastructures import MultiDict

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


def keyed(form: Form, data: object = None) -> Form:
    """The form carrying its idempotency key: the one it was sent with (shown again with its errors), else a fresh one."""
    form.values["key"] = submitted_key(data) or idempotency_key()
    return form


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


BASE_PREFIX = "base."


@dataclass
class Form:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # What the person saw of each field when the form was drawn (see the module's docstring).
    base: dict[str, str] = field(default_factory=dict)

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
        keys = getattr(data, "keys", None)
        # The values the person saw are bounded like what they typed: they are echoed back in the form.
        form.base = {key[len(BASE_PREFIX):]: CONTROL_RE.sub("", str(getter(key)))[: FIELD_MAX * 50]
                     for key in (keys() if keys and getter else ())
                     if isinstance(key, str) and key.startswith(BASE_PREFIX)}
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


@dataclass(frozen=True)
class Merge:
    values: dict[str, str]  # what to save: each field as whichever of the two changed it
    conflicts: tuple[str, ...]  # the fields both changed, differently: the person chooses


def merge_three_way(*, base: dict[str, str], mine: dict[str, str], stored: dict[str, str], names: tuple[str, ...],
                    normal: Callable[[str, str], str] = lambda name, value: value.strip()) -> Merge:
    """Field by field: unchanged by me takes theirs, unchanged by them keeps mine, changed by both is a conflict.

    A field the form carried no base for (a form drawn before bases existed) is a conflict wherever it differs:
    nothing says the person saw the stored value.
    """
    values, conflicts = {}, []
    for name in names:
        theirs, own, seen = stored.get(name, ""), mine.get(name, ""), base.get(name)
        if normal(name, own) == normal(name, theirs) or (seen is not None and normal(name, own) == normal(name, seen)):
            values[name] = theirs
        elif seen is not None and normal(name, theirs) == normal(name, seen):
            values[name] = own
        else:
            values[name] = own
            conflicts.append(name)
    return Merge(values=values, conflicts=tuple(conflicts))


# Fields sent as several values (checkboxes) but kept as one comma-separated string in a form.
LIST_FIELDS = ("weekdays",)


def _items(name: str, value: str) -> list[tuple[str, str]]:
    if name in LIST_FIELDS:
        return [(name, part) for part in value.split(",") if part]
    return [(name, value)]


def with_choices(data: object, names: tuple[str, ...]) -> object:
    """The submitted form with each field whose conflict the person settled as "use theirs" set to that value.

    After a conflict the form's base is what is stored, so "theirs" is the field's base; "keep mine" (the
    default) is the field as typed.
    """
    getter, getall = getattr(data, "get", None), getattr(data, "getall", None)
    if getter is None or getall is None:
        return data
    chosen = {name for name in names
              if getter("choice." + name) == "theirs" and getter(BASE_PREFIX + name) is not None}
    if not chosen:
        return data
    items = [(key, value) for key in dict.fromkeys(data.keys()) if key not in chosen for value in getall(key)]
    for name in chosen:
        items += _items(name, str(getter(BASE_PREFIX + name)))
    return MultiDict(items)


def merged_data(form: Form) -> MultiDict:
    """A form's values as submitted data again, to be read by its form function after a merge."""
    items = [item for name, value in form.values.items() for item in _items(name, value)]
    items += [(BASE_PREFIX + name, value) for name, value in form.base.items()]
    return MultiDict(items)


def merge_refused_edit(form: Form, *, stored: dict[str, str], names: tuple[str, ...], labels: dict[str, str],
                       normal: Callable[[str, str], str] = lambda name, value: value.strip()) -> list[dict]:
    """After a save refused for an older version: the form now holds the merge, and its base is what is stored.

    Returns the fields both people changed, side by side (each also gets a message next to it); an empty
    list means the merge can be saved as it is.
    """
    merge = merge_three_way(base=form.base, mine=form.values, stored=stored, names=names, normal=normal)
    form.values.update(merge.values)
    form.base = {name: stored.get(name, "") for name in names}
    rows = []
    for name in merge.conflicts:
        theirs = stored.get(name, "")
        rows.append({"name": name, "label": labels.get(name, name), "yours": form.values[name] or "—",
                     "stored": theirs or "—"})
        form.error(name, _("Someone else saved a different value meanwhile: “{stored}”. Keep yours or use "
                           "theirs, then save again.").format(stored=theirs or _("(empty)")))
    return rows


@dataclass
class Saved:
    """What came of a versioned form's save: the form as it now stands, and the service's answer when it saved."""

    form: Form
    result: object = None
    outcome: str = "saved"  # "saved", "invalid" (messages next to fields) or "conflict" (both changed a field)
    conflicts: list[dict] = field(default_factory=list)
    stored: Optional[dict] = None  # the record as stored, after a conflict
    details: object = None  # what the form function read, when it was valid


async def save_merged(data: object, *, parse: Callable[[object], tuple[Form, object]],
                      save: Callable[[Form, object], Awaitable[object]],
                      load: Callable[[], Awaitable[tuple[dict, dict[str, str]]]], conflict: type[Exception],
                      names: tuple[str, ...], labels: dict[str, str], version_field: str = "version",
                      normal: Callable[[str, str], str] = lambda name, value: value.strip()) -> Saved:
    """Save a versioned form; refused for an older version, merge it three ways and save the merge once.

    `parse` reads submitted data into (form, details or None); `save` calls the service with the form's
    version; `load` returns the stored record and its values as form strings. A field both people changed,
    or a second refusal meanwhile, comes back as a conflict for the person to settle.
    """
    data = with_choices(data, names)
    for attempt in range(2):
        form, details = parse(data)
        if details is None:
            return Saved(form=form, outcome="invalid")
        try:
            return Saved(form=form, result=await save(form, details), details=details)
        except conflict:
            record, stored = await load()
            rows = merge_refused_edit(form, stored=stored, names=names, labels=labels, normal=normal)
            form.values[version_field] = str(record[version_field])
            if rows or attempt:
                return Saved(form=form, outcome="conflict", conflicts=rows, stored=record)
            data = merged_data(form)
    raise AssertionError("unreachable")
