"""`kinward mail send` and `kinward mail status`: the outbox from the command line."""

from __future__ import annotations

from app.mail.services import outbox_enqueue
from app.mail.tables import Outbox
from tests.mail.smtp import SMTPServer
from tests.test_cli import run_cli


async def test_mail_send_delivers_what_is_due_and_status_counts_it():
    await outbox_enqueue(kind="test", to_address="someone@example.org", subject="Hello", body="From the command")
    server = SMTPServer()
    server.start()
    try:
        done = run_cli("mail", "send", env_overrides={"KINWARD_SMTP_HOST": "127.0.0.1",
                                                      "KINWARD_SMTP_PORT": str(server.port)})
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    assert "Sent 1, to retry later 0, refused 0." in done.stdout
    assert [m["To"] for m in server.inbox.messages] == ["someone@example.org"]
    assert (await Outbox.select(Outbox.status).first().run())["status"] == "sent"
    status = run_cli("mail", "status")
    assert status.returncode == 0 and "pending 0, sending 0, sent 1, failed 0" in status.stdout


def test_mail_send_in_production_without_a_server_says_mail_stays_queued():
    done = run_cli("mail", "send", env_overrides={"KINWARD_ENV": "production", "KINWARD_SECRET_KEY": "k" * 40,
                                                  "KINWARD_SMTP_HOST": ""})
    assert done.returncode == 2 and "emails stay in the outbox" in done.stderr
