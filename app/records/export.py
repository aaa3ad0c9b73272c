"""Subject access (UK GDPR articles 15 and 20): everything Kinward holds about one client, as a ZIP.

JSON files, one per kind of record, so another system can read them; a printable summary for a
person to read; team-only notes in a file of their own, marked as such, apart from the messages
the family could see. The export is audited by the caller.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from app.accounts.tables import User
from app.audit.tables import AuditEvent
from app.clients.tables import Client
from app.liaison import forms as liaison_forms
from app.liaison.fhir import fhir_bundle_for
from app.liaison.queries import SECTIONS, summary_for
from app.messages.tables import Message, Visibility
from app.records.queries import client_related_rows
from app.web.templating import build_environment

README = """Everything Kinward holds about client {client_id}, exported {exported_at} by {exported_by}.

summary.html                     the care summary, then every record and message, to read or print
fhir.json                        the same care summary as a FHIR R4 Bundle, for another care system
client.json                      the client record
records/<kind>.json              every other record about the client, one file per kind (care plans,
                                 goals, services, visits, contacts, care team, family links, providers,
                                 referrals and their events, share links, disclosures...)
messages/family_visible.json     messages between the care team and the family
messages/team_notes.json         TEAM-ONLY NOTES: written by the care team for the team; never shown to the family
access_log.json                  who opened or changed the record, and when (the audit trail's entries about the client)
people.json                      the staff and family members named by id in the other files

Times are in UTC (ISO 8601).
"""


# Secrets of links sent to others (their hashes) are Kinward's security, not information about the client.
SECRET_COLUMNS = frozenset({"token_hash"})


def _without_secrets(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in SECRET_COLUMNS} for row in rows]


def _json(data: Any) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str, sort_keys=True).encode()


async def client_export_files(*, client_id: int, exported_by: str, now: datetime) -> dict[str, bytes]:
    """The export's files by name; the caller has checked that the person may have them."""
    client = await Client.select().where(Client.id == client_id).first().run()
    if client is None:
        raise LookupError(client_id)
    related = await client_related_rows(client_id=client_id)
    by_table = {table._meta.tablename: _without_secrets(rows) for table, rows in related}
    messages = by_table.pop(Message._meta.tablename, [])
    access_log = await AuditEvent.select(
        AuditEvent.at, AuditEvent.actor_id, AuditEvent.actor_label, AuditEvent.role, AuditEvent.action,
        AuditEvent.object_type, AuditEvent.object_id, AuditEvent.device_id, AuditEvent.address,
    ).where((AuditEvent.facility_id == client["facility"]) & (AuditEvent.client_id == client_id)).order_by(
        AuditEvent.seq).run()

    people_ids = {row["actor_id"] for row in access_log if row["actor_id"] is not None}
    for table, rows in related:
        for column in table._meta.foreign_key_columns:
            if column._foreign_key_meta.resolved_references is User:
                people_ids |= {row[column._meta.name] for row in rows if row[column._meta.name] is not None}
    people = await User.select(User.id, User.display_name, User.role).where(
        User.id.is_in(sorted(people_ids)) & (User.facility == client["facility"])).run() if people_ids else []

    files = {
        "README.txt": README.format(client_id=client_id, exported_at=now.isoformat(), exported_by=exported_by).encode(),
        "client.json": _json(client),
        "messages/family_visible.json": _json([m for m in messages if m["visibility"] == Visibility.family.value]),
        "messages/team_notes.json": _json({"note": "Team-only notes: never shown to the family.",
                                           "notes": [m for m in messages if m["visibility"] == Visibility.team.value]}),
        "access_log.json": _json(access_log),
        "people.json": _json(people),
        "fhir.json": _json(await fhir_bundle_for(client_id=client_id, sections=SECTIONS, now=now)),
    }
    for name, rows in sorted(by_table.items()):
        files[f"records/{name}.json"] = _json(rows)
    summary = await summary_for(client_id=client_id, sections=SECTIONS, today=now.date(), now=now)
    files["summary.html"] = build_environment().get_template("records/export_summary.html").render(
        client=client, records=by_table, messages=messages, exported_at=now, people={p["id"]: p for p in people},
        summary=summary, labels=liaison_forms.labels(), tz="UTC", printed_at=now, printed_by=exported_by,
        recipient="",
    ).encode()
    return files


def export_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()
