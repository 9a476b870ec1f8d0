"""A real SMTP server for the tests: aiosmtpd's own command (`python -m aiosmtpd`) in a process of its own on
127.0.0.1, keeping every message it receives in a Maildir that the tests read back, bytes as they arrived, and
refusing recipients at NO_SUCH_USER for good (550), as a server refuses an unknown address."""

from __future__ import annotations

import mailbox
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent.parent
NO_SUCH_USER = "@nowhere.invalid"  # the server refuses these recipients for good (550)


class RefusingMailbox(Mailbox):
    """aiosmtpd's Maildir handler, refusing recipients at NO_SUCH_USER as a real server refuses an unknown user."""

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: SmtpSession, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.endswith(NO_SUCH_USER):
            return f"550 5.1.1 <{address}>: Recipient address rejected: No such user here"  # as Postfix says it
        envelope.rcpt_tos.append(address)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class SmtpServer:
    port: int
    maildir: Path
    process: subprocess.Popen[bytes]

    def raw_messages(self) -> list[bytes]:
        box = mailbox.Maildir(self.maildir, create=False)
        return [box.get_bytes(key) for key in sorted(box.keys())]  # keys begin with the arrival time

    def messages(self) -> list[EmailMessage]:
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(raw) for raw in self.raw_messages()]  # type: ignore[misc]

    def clear(self) -> None:
        mailbox.Maildir(self.maildir, create=False).clear()


@contextmanager
def smtp_server(
    folder: Path, tls: tuple[Path, Path] | None = None, *, implicit_tls: bool = False
) -> Iterator[SmtpServer]:
    """aiosmtpd on a free port; with `tls` (certificate and key files) it offers STARTTLS, or with `implicit_tls`
    speaks TLS from the first byte (SMTPS)."""
    port = _free_port()
    maildir = folder / "maildir"
    mailbox.Maildir(maildir, create=True)
    command = [
        sys.executable,
        "-m",
        "aiosmtpd",
        "-n",
        "-l",
        f"127.0.0.1:{port}",
        "-c",
        "tests.support.smtp_server.RefusingMailbox",
    ]
    if tls is not None and implicit_tls:
        command += ["--smtpscert", str(tls[0]), "--smtpskey", str(tls[1])]
    elif tls is not None:
        command += ["--tlscert", str(tls[0]), "--tlskey", str(tls[1])]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([*command, str(maildir)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        wait_until(lambda: _listening(port) or process.poll() is not None, 20, message="aiosmtpd did not start")
        assert process.poll() is None, (process.stderr.read() if process.stderr else b"").decode()
        yield SmtpServer(port, maildir, process)
    finally:
        process.terminate()
        process.wait(10)
