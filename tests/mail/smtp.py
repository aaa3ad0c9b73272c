"""A real SMTP server for tests (aiosmtpd, in its own thread), on a free localhost port, that can be stopped."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Optional

from aiosmtpd.controller import Controller

from tests.processes import free_port


class Inbox:
    """What the server accepted; `refuse` maps a recipient to the reply that refuses it, and the next
    `defer` messages are received whole and then answered "try again later" (kept in `deferred`)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.received: list[bytes] = []
        self.deferred: list[bytes] = []
        self.refuse: dict[str, str] = {}
        self.defer = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.defer:
            self.defer -= 1
            self.deferred.append(envelope.content)
            return "451 Try again later"
        self.received.append(envelope.content)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def parsed(self, raw: list[bytes] | None = None) -> list[EmailMessage]:
        """What arrived, read by the standard library's parser with its strict, current policy."""
        return [BytesParser(policy=policy.default).parsebytes(content) for content in
                (self.received if raw is None else raw)]

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


class SMTPServer:
    """Start, stop and start again on the same port: an outage the outbox must ride out."""

    def __init__(self, port: Optional[int] = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self._controller: Optional[Controller] = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
