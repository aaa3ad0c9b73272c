"""Writes for the staff report: the supervision note, one new version per save."""

from __future__ import annotations

from app import clock, db
from app.audit.services import Actor, audit_record
from app.errors import FieldError, VersionConflict
from app.i18n import _
from app.reports.tables import SupervisionNote


class SupervisionError(FieldError):
    """A rule refused the note; `field` names the form field the message belongs next to."""


class SupervisionVersionConflict(VersionConflict):
    """Someone saved a newer version of the note since this edit began; `stored` is the newest."""


async def _newest(worker_id: int) -> dict:
    row = await SupervisionNote.select(SupervisionNote.version, SupervisionNote.body).where(
        SupervisionNote.worker == worker_id).order_by(SupervisionNote.version, ascending=False).first().run()
    return row or {"version": 0, "body": ""}


async def supervision_note_save(*, actor: Actor, facility_id: int, worker_id: int, based_on: int, body: str) -> int:
    """Save a new version of the supervision note about a worker; refused if it is not based on the newest."""
    body = body.strip()
    if not body:
        raise SupervisionError("body", _("Write the note."))
    try:
        async with db.transaction():
            newest = await _newest(worker_id)
            if newest["version"] != based_on:
                raise SupervisionVersionConflict(newest)
            if newest["body"] == body:
                return based_on
            version = based_on + 1
            await SupervisionNote.insert(SupervisionNote(worker=worker_id, version=version, body=body,
                                                         author=actor.user_id, created_at=clock.utcnow())).run()
            await audit_record(actor=actor, action="supervision.note_saved", facility_id=facility_id,
                               object_type="supervision_note", object_id=worker_id, detail={"version": version})
    except db.UNIQUE_VIOLATIONS:
        # Two saves of the same version at once: the unique (worker, version) index kept the first.
        raise SupervisionVersionConflict(await _newest(worker_id)) from None
    return version
