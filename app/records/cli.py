"""`kinward backup PATH`, `kinward backup verify PATH`, `kinward restore PATH`, `kinward retention report|purge`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from app.records.archive import BackupError
from app.records.backups import Migrations
from app.settings import Settings, settings_for_command


async def _with_db(settings: Settings, coro_factory):
    from app import db

    db.configure(settings.database_url)
    await db.start()
    try:
        return await coro_factory()
    finally:
        await db.stop()


def _summary(manifest: dict, facts) -> list[str]:
    rows = sum(count for name, count in facts.tables.items() if name != "migration")
    heads = ", ".join(f"facility {h['facility_id']}: row {h['seq']}" for h in facts.audit_heads) or "empty"
    lines = [
        f"  taken:      {manifest['snapshot_started_at']} (Kinward {manifest['kinward_version']}, {manifest['engine']})",
        f"  records:    {rows} rows in {len(facts.tables)} tables",
        f"  migrations: {len(facts.migrations)} applied",
        f"  audit:      chain heads {heads}",
    ]
    lines += [f"    {name:28} {count}" for name, count in sorted(facts.tables.items()) if count]
    return lines


def cmd_backup(args: argparse.Namespace) -> int:
    from app.records.backups import backup_create, backup_verify

    settings = settings_for_command()
    if len(args.target) == 2 and args.target[0] == "verify":
        path = Path(args.target[1])
        try:
            report = asyncio.run(backup_verify(path=path, database_url=settings.database_url,
                                               migrations=args.migrations, passphrase=settings.backup_passphrase))
        except BackupError as error:
            print(f"kinward: backup {path} REFUSED: {error}.", file=sys.stderr)
            return 1
        print(f"Backup {path} is sound: SHA-256, integrity, manifest and audit trail all check out.")
        print("\n".join(_summary(report.manifest, report.facts)))
        if report.migrations_to_apply:
            print(f"  A restore would apply {len(report.migrations_to_apply)} newer migration(s).")
        return 0
    if len(args.target) != 1:
        print("kinward: usage: kinward backup PATH | kinward backup verify PATH", file=sys.stderr)
        return 2
    path = Path(args.target[0])
    try:
        report = asyncio.run(backup_create(database_url=settings.database_url, path=path,
                                           passphrase=settings.backup_passphrase))
    except BackupError as error:
        print(f"kinward: no backup made: {error}.", file=sys.stderr)
        return 1
    rows = sum(count for name, count in report.manifest["tables"].items() if name != "migration")
    encrypted = " (encrypted)" if report.manifest["payload"]["encryption"] else ""
    print(f"Backup written to {path}{encrypted}: {rows} rows in {len(report.manifest['tables'])} tables.")
    print(f"  SHA-256 {report.file_sha256} (also in {path.name}.sha256)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from app.records.backups import backup_restore

    settings = settings_for_command()
    path = Path(args.path)
    try:
        report = asyncio.run(backup_restore(path=path, database_url=settings.database_url, force=args.force,
                                            migrations=args.migrations, passphrase=settings.backup_passphrase))
    except BackupError as error:
        print(f"kinward: nothing restored from {path}: {error}.", file=sys.stderr)
        return 1
    print(f"Restored {path}; integrity, manifest and audit trail verified.")
    print("\n".join(_summary(report.manifest, report.facts)))
    if report.migrations_applied:
        print(f"  Migrated forward: {len(report.migrations_applied)} migration(s) applied.")
    return 0


def cmd_retention_report(args: argparse.Namespace) -> int:
    from app import clock
    from app.records.queries import retention_due_for

    settings = settings_for_command()
    due = asyncio.run(_with_db(settings, lambda: retention_due_for(today=clock.utcnow().date())))
    if not due:
        print("No discharged client is past the retention period.")
        return 0
    print(f"{len(due)} discharged client(s) past the retention period (purge with `kinward retention purge --confirm`):")
    for row in due:
        print(f"  client {row['id']:>6}  {row['facility_name']}: care ended {row['care_ended_on']}, "
              f"kept {row['retention_years']} years, due since {row['purge_due_on']}")
    return 0


def cmd_retention_purge(args: argparse.Namespace) -> int:
    from app import clock
    from app.records.services import retention_purge

    settings = settings_for_command()
    if not args.confirm:
        print("kinward: this removes the personal data of every client listed by `kinward retention report`, "
              "for good. Run it again with --confirm.", file=sys.stderr)
        return 2
    purged = asyncio.run(_with_db(settings, lambda: retention_purge(today=clock.utcnow().date(),
                                                                     by="kinward retention purge")))
    print(f"Personal data removed for {len(purged)} client(s)" + (": " + ", ".join(map(str, purged)) if purged else "."))
    return 0


def register(commands: argparse._SubParsersAction, *, migrations: Migrations) -> None:
    backup = commands.add_parser("backup", help="a consistent copy of the database while Kinward runs",
                                 description="kinward backup PATH  |  kinward backup verify PATH")
    backup.add_argument("target", nargs="+", metavar="PATH", help="where to write the backup (or: verify PATH)")
    backup.set_defaults(func=cmd_backup, migrations=migrations)

    restore = commands.add_parser("restore", help="replace the database with a checked backup")
    restore.add_argument("path", metavar="PATH")
    restore.add_argument("--force", action="store_true", help="replace a database that already holds records")
    restore.set_defaults(func=cmd_restore, migrations=migrations)

    retention = commands.add_parser("retention", help="records past the facility's retention period")
    retention_commands = retention.add_subparsers(dest="retention_command", required=True)
    retention_commands.add_parser("report", help="discharged clients past the retention period").set_defaults(
        func=cmd_retention_report)
    purge = retention_commands.add_parser("purge", help="remove those clients' personal data")
    purge.add_argument("--confirm", action="store_true")
    purge.set_defaults(func=cmd_retention_purge)
