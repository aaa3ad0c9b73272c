"""What a service says when it refuses a change, the same in every feature."""

from __future__ import annotations


class FieldError(ValueError):
    """A rule refused the change; `field` names the form field the message belongs next to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class VersionConflict(Exception):
    """Someone saved the record since this edit began; `stored` is the record as it is now."""

    def __init__(self, stored: dict) -> None:
        super().__init__("changed meanwhile")
        self.stored = stored
