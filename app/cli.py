"""The `kinward` command: serve, migrate, demo, create-admin, schedule, audit verify and checkpoint."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from typing import Optional, Sequence

from app.settings import Settings, settings_for_command


async def _with_db(settings: Settings, coro_factory, *, migrating: bool = False):
    from app import db
    from app.wiring import configure, wire

    wire()
    configure(settings)
    await db.start()
    try:
        if settings.password_hashing == "test" and not migrating:  # migrating hashes nothing (and may find no tables)
            await _demo_only()
        return await coro_factory()
    finally:
        await db.stop()


async def _demo_only() -> None:
    """The tests' password hashing writes hashes anyone could crack: never beside real people's accounts."""
    from app.demo import holds_other_facilities

    if await holds_other_facilities():
        sys.exit("kinward: configuration error: KINWARD_PASSWORD_HASHING=test is for the demo that tests drive; "
                 "this database holds a facility other than the demo's")


def cmd_migrate(args: argparse.Namespace) -> int:
    from app.migrations_state import migrations_apply, pending_migrations

    settings = settings_for_command()

    async def run() -> int:
        pending = await pending_migrations()
        if not pending:
            print("Database is up to date.")
            return 0
        await migrations_apply()
        print(f"Applied {len(pending)} migration(s).")
        return 0

    return asyncio.run(_with_db(settings, run, migrating=True))


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.migrations_state import pending_migrations

    settings = settings_for_command()
    try:
        pending = asyncio.run(_with_db(settings, pending_migrations))
    except Exception as error:  # the message says what is wrong with the database
        print(f"kinward: cannot reach the database: {error}", file=sys.stderr)
        return 2
    if pending:
        print(f"kinward: the database has {len(pending)} unapplied migration(s). "
              "Run `kinward migrate` first.", file=sys.stderr)
        return 2
    if args.workers > 1 and settings.is_sqlite:
        print("kinward: note: several workers on SQLite share one file and take turns to write; "
              "use PostgreSQL to scale out.", file=sys.stderr)
    uvicorn.run("app.main:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level="info", access_log=False, proxy_headers=True)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from app.accounts.demo import DEMO_EMAILS, demo_password
    from app.demo import demo_seed

    settings = settings_for_command()
    if args.reset and settings.env != "development":
        print("kinward: demo --reset empties the whole database; it runs only with KINWARD_ENV=development.",
              file=sys.stderr)
        return 2

    async def run() -> bool:
        if args.reset:
            from app.demo import DemoResetRefused, demo_reset

            try:
                await demo_reset()
            except DemoResetRefused as refused:
                sys.exit(f"kinward: demo --reset refused: {refused}.")
            return True
        if args.if_empty:
            from app.accounts.queries import facility_count

            if await facility_count():
                return False
        return await demo_seed()

    async def run_scaled() -> dict:
        from app.demo_scale import demo_scale

        await demo_seed()
        return await demo_scale(args.scale)

    if args.scale:
        counts = asyncio.run(_with_db(settings, run_scaled))
        print("Added to the demo facility: " + ", ".join(f"{value:,} {name}" for name, value in counts.items()))
        return 0
    created = asyncio.run(_with_db(settings, run))
    print("Demo facility created." if created else "Demo data already present (or the database is not empty).")
    if created or not args.if_empty:
        print("Demo accounts (password = kinward-demo-<part before @>):")
        for email in DEMO_EMAILS:
            print(f"  {email:32} {demo_password(email)}")
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from app.accounts.passwords import password_problem
    from app.accounts.services import AccountError, facility_create, user_create
    from app.accounts.tables import Facility, Role
    from app.audit.services import Actor

    settings = settings_for_command()
    password = os.environ.get("KINWARD_ADMIN_PASSWORD") or getpass.getpass("Password (at least 15 characters): ")
    problem = password_problem(password, email=args.email)
    if problem:
        print(f"kinward: {problem}", file=sys.stderr)
        return 2

    async def run() -> int:
        row = await Facility.select(Facility.id).where(Facility.name == args.facility).first().run()
        facility_id = row["id"] if row else await facility_create(name=args.facility, timezone=args.timezone)
        try:
            await user_create(actor=Actor(label="kinward create-admin", facility_id=facility_id),
                              facility_id=facility_id, email=args.email, display_name=args.name,
                              role=Role.admin, password=password)
        except AccountError as error:
            print(f"kinward: {error.message}", file=sys.stderr)
            return 2
        print(f"Administrator {args.email} created for {args.facility}.")
        return 0

    return asyncio.run(_with_db(settings, run))


def cmd_schedule(args: argparse.Namespace) -> int:
    from app import clock
    from app.visits.services import schedule_sync

    settings = settings_for_command()
    if not 1 <= args.days <= 366:
        print("kinward: --days must be between 1 and 366", file=sys.stderr)
        return 2

    async def run():
        return await schedule_sync(now=clock.utcnow(), horizon_days=args.days)

    result = asyncio.run(_with_db(settings, run))
    print(f"Schedule up to date for the next {args.days} days: {result.created} visit(s) planned, "
          f"{result.removed} removed, {result.updated} changed.")
    return 0


def cmd_mail_send(args: argparse.Namespace) -> int:
    """One round of what the app's mail worker does: escalations, digests, then the outbox."""
    from app.mail.sender import delivery_mode, mail_pass
    from app.messages.services import digests_enqueue, escalations_enqueue
    from app.visits.services import concern_escalations_enqueue

    settings = settings_for_command()
    if delivery_mode(settings) == "hold":
        print("kinward: KINWARD_SMTP_HOST is not set: emails stay in the outbox until it is.", file=sys.stderr)
        return 2
    jobs = (escalations_enqueue, concern_escalations_enqueue, digests_enqueue)
    report = asyncio.run(_with_db(settings, lambda: mail_pass(settings, jobs)))
    print(f"Sent {report.sent}, to retry later {report.retrying}, refused {report.failed}.")
    return 0


def cmd_mail_status(args: argparse.Namespace) -> int:
    from app.mail.queries import outbox_counts

    counts = asyncio.run(_with_db(settings_for_command(), outbox_counts))
    print(", ".join(f"{status} {count}" for status, count in counts.items()))
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from app.audit.queries import CheckpointError, audit_chain_verify

    settings = settings_for_command()
    path = args.checkpoint or settings.audit_checkpoint_path
    checkpoint = None
    if path:
        try:
            checkpoint = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            print(f"Audit trail NOT VERIFIED: cannot read the checkpoint {path}: {error}", file=sys.stderr)
            return 1
    try:
        broken = asyncio.run(_with_db(settings, lambda: audit_chain_verify(checkpoint)))
    except CheckpointError as error:
        print(f"Audit trail NOT VERIFIED: {error}.", file=sys.stderr)
        return 1
    if broken is None:
        print("Audit trail intact" + (f", and it reaches the checkpoint {path}." if checkpoint else
                                      " (no checkpoint to check its end against)."))
        return 0
    chain = "no facility" if broken.facility_id is None else f"facility {broken.facility_id}"
    print(f"Audit trail BROKEN in the chain of {chain}: row {broken.seq} (id {broken.event_id}): {broken.reason}.",
          file=sys.stderr)
    return 1


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    import json

    from app.audit.services import audit_checkpoint_write

    settings = settings_for_command()
    path = args.output or settings.audit_checkpoint_path
    checkpoint = asyncio.run(_with_db(settings, lambda: audit_checkpoint_write(path)))
    print(json.dumps(checkpoint, indent=2))
    if path:
        print(f"Written to {path}.", file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="kinward", description="Kinward care-coordination portal")
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    demo = commands.add_parser("demo", help="create the demo facility and accounts")
    demo.add_argument("--if-empty", action="store_true", help="only when the database has no facility yet")
    demo.add_argument("--scale", type=int, default=0, metavar="N",
                      help="add N x (320 clients, 60 staff, 3 years of history: about 1,050,000 visits)")
    demo.add_argument("--reset", action="store_true",
                      help="development only: empty the database and create the demo afresh")
    demo.set_defaults(func=cmd_demo)

    admin = commands.add_parser("create-admin", help="create an administrator (and the facility if needed)")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    admin.add_argument("--facility", required=True)
    admin.add_argument("--timezone", default="Europe/London")
    admin.set_defaults(func=cmd_create_admin)

    schedule = commands.add_parser("schedule", help="plan visits from the active care plans (safe to repeat)")
    schedule.add_argument("--days", type=int, default=14, help="how many days ahead to plan (default 14)")
    schedule.set_defaults(func=cmd_schedule)

    mail = commands.add_parser("mail", help="the email outbox")
    mail_commands = mail.add_subparsers(dest="mail_command", required=True)
    mail_commands.add_parser("send", help="send what is due now (the app also does, every few seconds)").set_defaults(
        func=cmd_mail_send)
    mail_commands.add_parser("status", help="how many emails are pending, sent or refused").set_defaults(
        func=cmd_mail_status)

    audit = commands.add_parser("audit", help="audit trail tools")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser("verify", help="check the keyed hash chains (and that they reach the checkpoint)")
    verify.add_argument("--checkpoint", default="", help="checkpoint file (default: KINWARD_AUDIT_CHECKPOINT)")
    verify.set_defaults(func=cmd_audit_verify)
    checkpoint = audit_commands.add_parser("checkpoint", help="seal, then sign and print every chain's head")
    checkpoint.add_argument("--output", default="", help="also write it here (default: KINWARD_AUDIT_CHECKPOINT)")
    checkpoint.set_defaults(func=cmd_audit_checkpoint)

    from app.migrations_state import known_migrations, migrations_apply, pending_migrations
    from app.records.backups import Migrations
    from app.records.cli import register as records_register

    records_register(commands, migrations=Migrations(known=known_migrations, pending=pending_migrations,
                                                     apply=migrations_apply))
    return root


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
