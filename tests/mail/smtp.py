"""A real SMTP server for tests (aiosmtpd, in its own thread), on a free localhost port, that can be stopped."""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.message import Message
from typing import Optional

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """What the server accepted; `refuse` maps a recipient to the reply that refuses it."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

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
