"""SMTP and IMAP clients that reach a server by address but verify its name.

The lab's hosts all answer as mail.gialai.gov.vn; tests connect to each
container's address while TLS verification checks the certificate against the
mail host name and the lab CA, as a real client would.
"""

from __future__ import annotations

import contextlib
import email.policy
import imaplib
import select
import smtplib
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage


@dataclass
class Target:
    """Where a mail host answers: its address, its name and the CA to trust."""

    address: str
    hostname: str
    cafile: str

    def tls_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.cafile)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx


# Seconds a client waits for the server (connect, TLS handshake, each reply). A test
# asserts what the server answers, not how fast: on a loaded 2-core CI machine, with
# scanners opening hundreds of TLS sessions beside it, a handshake on 993 once took
# over 30 s (the old default) and failed a test whose server was right.
WAIT = 120


def _connect(target: Target, port: int, timeout: float) -> socket.socket:
    return socket.create_connection((target.address, port), timeout=timeout)


class SMTP(smtplib.SMTP):
    """smtplib.SMTP that dials target.address but says and verifies target.hostname."""

    def __init__(self, target: Target, port: int = 25, timeout: float = WAIT, **kw):
        self._target = target
        super().__init__(target.hostname, port, local_hostname="client.test.example", timeout=timeout, **kw)

    def _get_socket(self, host, port, timeout):
        return _connect(self._target, port, timeout)

    def starttls(self, context=None):  # noqa: D401 - same contract as smtplib
        return super().starttls(context=context or self._target.tls_context())


def answers(address: str, port: int, timeout: float = 3) -> bool:
    """Whether a TCP connection from here to address:port is accepted (refused, dropped or
    unreachable: False)."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_banner(target: Target, port: int = 25, seconds: float = 300) -> float:
    """Wait (bounded) until the server greets on `port` with its full banner; the seconds it took.

    A scenario's tests start right after its converge, while the other scenarios create
    and destroy their hosts beside it: once, on a 2-core machine at load 85, port 25
    accepted connections but sent no banner for over 120 s, and the first two tests
    failed on a client timeout, the server being right a minute later. The hosts'
    tests wait for this once, at their start; the greeting is read in full (smtplib),
    so postscreen sees a well-behaved client.
    """
    start = time.monotonic()
    last: Exception | None = None
    while (left := seconds - (time.monotonic() - start)) > 0:
        try:
            with SMTP(target, port, timeout=left) as client:
                client.quit()
            return time.monotonic() - start
        except (OSError, smtplib.SMTPException) as exc:
            last = exc
            time.sleep(min(1.0, max(left - 1, 0)))
    raise AssertionError(f"{target.address}:{port}: no SMTP banner within {seconds} s ({last})")


class SMTPS(smtplib.SMTP_SSL):
    """Implicit-TLS SMTP (port 465) with the same address/name split."""

    def __init__(self, target: Target, port: int = 465, timeout: float = WAIT, **kw):
        self._target = target
        super().__init__(
            target.hostname, port, local_hostname="client.test.example", timeout=timeout,
            context=target.tls_context(), **kw,
        )

    def _get_socket(self, host, port, timeout):
        sock = _connect(self._target, port, timeout)
        return self.context.wrap_socket(sock, server_hostname=self._host)


class IMAP(imaplib.IMAP4):
    """Plain IMAP on 143 (STARTTLS available through .starttls())."""

    def __init__(self, target: Target, port: int = 143, timeout: float = 30):
        self._target = target
        super().__init__(target.hostname, port, timeout=timeout)

    def _create_socket(self, timeout):
        return _connect(self._target, self.port, timeout)

    def starttls(self, ssl_context=None):
        return super().starttls(ssl_context=ssl_context or self._target.tls_context())


class IMAPS(imaplib.IMAP4_SSL):
    """IMAP over implicit TLS (993)."""

    def __init__(self, target: Target, port: int = 993, timeout: float = WAIT):
        self._target = target
        super().__init__(target.hostname, port, ssl_context=target.tls_context(), timeout=timeout)

    def _create_socket(self, timeout):
        sock = _connect(self._target, self.port, timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def make_message(sender: str, recipients: list[str], subject: str, body: str = "",
                 attachment: bytes | None = None, attachment_name: str = "data.bin") -> EmailMessage:
    """A message with a unique Message-ID (returned in msg['Message-ID'])."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@test.example>"
    msg.set_content(body or f"Test message {subject}\n", charset="utf-8")
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="octet-stream", filename=attachment_name)
    return msg


def smtp_send(target: Target, msg: EmailMessage, *, port: int = 25, login: tuple[str, str] | None = None,
              starttls: bool = False, implicit_tls: bool = False, sender: str | None = None,
              recipients: list[str] | None = None) -> dict:
    """Send msg; returns smtplib's refused-recipients dict (raises on refusal of all)."""
    cls = SMTPS if implicit_tls else SMTP
    with cls(target, port=port) as client:
        client.ehlo()
        if starttls:
            client.starttls()
            client.ehlo()
        if login:
            client.login(*login)
        return client.send_message(msg, from_addr=sender, to_addrs=recipients)


# The EICAR test file, assembled here so that scanners leave this source alone.
EICAR = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode()


# An outside sender (a partner's address): what a client from the Internet says in MAIL FROM.
@contextlib.contextmanager
def submission(target: Target, timeout: float = WAIT):
    """A session on 587 after EHLO, STARTTLS (the target's CA verified) and EHLO again; not logged in."""
    with SMTP(target, 587, timeout=timeout) as client:
        client.ehlo()
        client.starttls()
        client.ehlo()
        yield client


OUTSIDE = "sender@partner.example"


def rcpts_from_outside(target: Target, evidence, addresses: list[str]) -> list[tuple[str, int, bytes]]:
    """(address, code, reply) of RCPT TO each address in one port-25 session from outside, as evidence too."""
    replies = []
    with SMTP(target, 25) as client:
        client.ehlo("partner.example")
        assert client.mail(OUTSIDE)[0] == 250
        for address in addresses:
            code, reply = client.rcpt(address)
            evidence(f"RCPT TO:<{address}> from outside -> {code} {reply.decode(errors='replace')}")
            replies.append((address, code, reply))
    return replies


def imap_wait_for(target: Target, user: str, password: str, message_id: str, *,
                  expect: int = 1, timeout: float = 60, mailbox: str = "INBOX") -> list[bytes]:
    """Poll the mailbox over IMAPS until `expect` messages with message_id are there.

    Returns the raw messages found (fewer than expected only when time ran out).
    """
    deadline = time.monotonic() + timeout
    found: list[bytes] = []
    while True:
        with IMAPS(target) as imap:
            imap.login(user, password)
            imap.select(mailbox, readonly=True)
            typ, data = imap.search(None, "HEADER", "Message-ID", message_id)
            found = []
            if typ == "OK" and data and data[0]:
                for num in data[0].split():
                    _typ, parts = imap.fetch(num, "(BODY.PEEK[])")
                    found.append(parts[0][1])
            imap.logout()
        if len(found) >= expect or time.monotonic() > deadline:
            return found
        time.sleep(1)


def imap_idle(target: Target, user: str, password: str, timeout: float = 30) -> IMAPS:
    """An IMAPS session of `user` in IDLE on INBOX (a phone waiting for mail); close it with imap_idle_end."""
    imap = IMAPS(target, timeout=timeout)
    imap.login(user, password)
    imap.select("INBOX")
    imap._idle_tag = imap._new_tag().decode()
    imap.send(f"{imap._idle_tag} IDLE\r\n".encode())
    line = imap.readline()
    assert line.startswith(b"+"), f"IDLE refused: {line!r}"
    return imap


def imap_closed_by_server(imap: IMAPS, timeout: float = 30) -> str | None:
    """Wait (bounded) for the server to end an IDLE session: what it said ("BYE ...",
    "closed", or the socket error), or None when it was still open after `timeout` (and
    still usable: nothing is read until the socket has something to read)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if not imap.sock.pending() and not select.select([imap.sock], [], [], max(remaining, 0))[0]:
            return None
        imap.sock.settimeout(10)
        try:
            line = imap.readline()
        except (OSError, ssl.SSLError, imaplib.IMAP4.abort) as exc:
            return f"{type(exc).__name__}: {exc}"
        if not line:
            return "closed"
        if line.startswith(b"* BYE"):
            return line.decode(errors="replace").strip()
        # untagged updates (EXISTS, EXPUNGE ...) while idling: keep waiting


def imap_idle_end(imap: IMAPS) -> str:
    """End IDLE (DONE) and log out: the tagged answer to IDLE ("OK ...") if the session was
    still alive, else why not."""
    try:
        imap.sock.settimeout(10)
        imap.send(b"DONE\r\n")
        while True:
            line = imap.readline()
            if not line:
                return "closed"
            if line.startswith(imap._idle_tag.encode() + b" "):
                answer = line.decode(errors="replace")[len(imap._idle_tag) + 1:].strip()
                imap.logout()
                return answer
    except (OSError, ssl.SSLError, imaplib.IMAP4.abort) as exc:
        return f"{type(exc).__name__}: {exc}"
