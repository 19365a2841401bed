"""A ManageSieve client (RFC 5804) as Roundcube's managesieve plugin speaks it, over a real socket.

It dials the target's address and, after STARTTLS, verifies the certificate against the
target's CA and host name (tls://mail.<domain>:4190 in Roundcube). Only what the tests
need: capabilities, STARTTLS, AUTHENTICATE PLAIN (the full address as login), PUTSCRIPT,
CHECKSCRIPT, SETACTIVE, LISTSCRIPTS, GETSCRIPT, DELETESCRIPT, LOGOUT. Each command returns a
`Response`: its status (OK, NO, BYE), the response text (codes and strings as the
server wrote them, literals inlined) and the data lines before it.

`starttls_relay` lets a scanner that knows no ManageSieve (sslyze) judge the TLS of 4190:
a local listener that says STARTTLS for each client and then only relays bytes.
"""

from __future__ import annotations

import base64
import contextlib
import email
import email.header
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field

from .mailclient import IMAPS, WAIT, Target

PORT = 4190
_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")


@dataclass
class Response:
    status: str  # OK, NO or BYE
    text: str  # the rest of the status line: (code) "human-readable text"
    lines: list[str] = field(default_factory=list)  # the data lines before it

    @property
    def ok(self) -> bool:
        return self.status == "OK"

    def __str__(self) -> str:
        return f"{self.status} {self.text}".strip()


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(value: str) -> bytes:
    data = value.encode()
    return b"{%d+}\r\n" % len(data) + data


class ManageSieve:
    """One ManageSieve session with `target` (use as a context manager)."""

    def __init__(self, target: Target, port: int = PORT, timeout: float = WAIT):
        self.target = target
        self.sock: socket.socket | ssl.SSLSocket = socket.create_connection((target.address, port), timeout=timeout)
        self._buffer = b""
        self.tls = False
        greeting = self._response()
        assert greeting.ok, f"ManageSieve greeting: {greeting}"
        self.capabilities = self._capabilities(greeting)

    def __enter__(self) -> ManageSieve:
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(OSError, AssertionError):
            self.command(b"LOGOUT")
        self.sock.close()

    # --- wire ---------------------------------------------------------------------------
    def _readline(self) -> bytes:
        while b"\r\n" not in self._buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"the server closed the connection; unread: {self._buffer!r}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return line + b"\r\n"

    def _read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the server closed the connection inside a literal")
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _logical_line(self) -> str:
        """One response line with its literals ({n}) read and inlined as quoted strings."""
        line = self._readline()
        while (match := _LITERAL.search(line)):
            data = self._read(int(match.group(1)))
            line = line[:match.start()] + b'"' + data + b'"' + self._readline()
        return line.decode("utf-8", errors="replace").rstrip("\r\n")

    def _response(self) -> Response:
        lines = []
        while True:
            line = self._logical_line()
            word = line.split(" ", 1)[0].upper()
            if word in ("OK", "NO", "BYE"):
                return Response(word, line[len(word):].strip(), lines)
            lines.append(line)

    def command(self, *parts: bytes) -> Response:
        self.sock.sendall(b" ".join(parts) + b"\r\n")
        return self._response()

    @staticmethod
    def _capabilities(response: Response) -> dict[str, str]:
        caps = {}
        for line in response.lines:
            match = re.match(r'"([^"]+)"(?: "(.*)")?$', line)
            if match:
                caps[match.group(1).upper()] = match.group(2) or ""
        return caps

    # --- commands -------------------------------------------------------------------------
    def starttls(self) -> Response:
        """STARTTLS, the certificate verified against the target's CA and host name; the capabilities
        the server re-issues after the handshake replace the ones of the greeting."""
        answer = self.command(b"STARTTLS")
        assert answer.ok, f"STARTTLS refused: {answer}"
        assert not self._buffer, "data after STARTTLS's OK, before the handshake"
        self.sock = self.target.tls_context().wrap_socket(self.sock, server_hostname=self.target.hostname)
        self.tls = True
        after = self._response()
        self.capabilities = self._capabilities(after)
        return after

    def authenticate(self, user: str, password: str) -> Response:
        """AUTHENTICATE "PLAIN" with the initial response (the login as Roundcube sends it)."""
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        return self.command(b"AUTHENTICATE", _quote("PLAIN").encode(), _quote(token).encode())

    def putscript(self, name: str, script: str) -> Response:
        return self.command(b"PUTSCRIPT", _quote(name).encode(), _literal(script))

    def checkscript(self, script: str) -> Response:
        return self.command(b"CHECKSCRIPT", _literal(script))

    def setactive(self, name: str) -> Response:
        """Make `name` the active script ("" deactivates every script)."""
        return self.command(b"SETACTIVE", _quote(name).encode())

    def deletescript(self, name: str) -> Response:
        return self.command(b"DELETESCRIPT", _quote(name).encode())

    def getscript(self, name: str) -> str:
        """The text of script `name` (GETSCRIPT: one literal, inlined by the reader as a quoted string)."""
        answer = self.command(b"GETSCRIPT", _quote(name).encode())
        assert answer.ok, f"GETSCRIPT {name}: {answer}"
        text = "\n".join(answer.lines)
        return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text

    def listscripts(self) -> dict[str, bool]:
        """{script name: active}."""
        answer = self.command(b"LISTSCRIPTS")
        assert answer.ok, f"LISTSCRIPTS: {answer}"
        scripts = {}
        for line in answer.lines:
            match = re.match(r'"(.*)"( ACTIVE)?$', line)
            if match:
                scripts[match.group(1)] = bool(match.group(2))
        return scripts


def login(target: Target, user: str, password: str) -> ManageSieve:
    """A session after STARTTLS (certificate verified) and AUTHENTICATE PLAIN, as Roundcube opens it."""
    session = ManageSieve(target)
    session.starttls()
    answer = session.authenticate(user, password)
    assert answer.ok, f"AUTHENTICATE PLAIN {user} after STARTTLS: {answer}"
    return session


@contextlib.contextmanager
def starttls_relay(target: Target, port: int = PORT):
    """A listener on 127.0.0.1 (its port is yielded) that, for each client, opens a ManageSieve
    session with `target`, says STARTTLS and then relays the bytes both ways: the client's TLS
    handshake is the server's, exactly as after a ManageSieve client's STARTTLS."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)
    stop = threading.Event()

    def pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def serve(client: socket.socket) -> None:
        with client:
            try:
                upstream = socket.create_connection((target.address, port), timeout=WAIT)
            except OSError:
                return
            with upstream:
                session = ManageSieve.__new__(ManageSieve)
                session.sock, session._buffer, session.target = upstream, b"", target
                try:
                    if not session._response().ok or not session.command(b"STARTTLS").ok:
                        return
                except (OSError, ConnectionError):
                    return
                upstream.settimeout(None)
                client.settimeout(None)
                back = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
                back.start()
                pipe(client, upstream)
                back.join(WAIT)

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(client,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        acceptor.join(5)
        server.close()


def header_text(value: str | None) -> str:
    """A header's text, its encoded words decoded (a Vietnamese subject as the user reads it)."""
    return str(email.header.make_header(email.header.decode_header(value or "")))


def vacation_replies(target: Target, user: str, password: str, token: str) -> list[email.message.Message]:
    """The headers of the messages in `user`'s inbox (IMAPS, verified) whose subject holds `token`."""
    with IMAPS(target) as imap:
        imap.login(user, password)
        imap.select("INBOX", readonly=True)
        _typ, data = imap.search(None, "SUBJECT", token)
        found = []
        for num in (data[0] or b"").split():
            _typ, parts = imap.fetch(num, "(BODY.PEEK[HEADER])")
            found.append(email.message_from_bytes(parts[0][1]))
        imap.logout()
    return found


def one_vacation_reply(target: Target, user: str, password: str, token: str, *, subject: str, away: str,
                       in_reply_to: str, seconds: int = 60) -> email.message.Message:
    """Wait (bounded) for the out-of-office reply in `user`'s inbox and assert there is exactly
    one: its subject `subject`, from `away`, In-Reply-To `in_reply_to`, Auto-Submitted: auto-replied."""
    deadline = time.monotonic() + seconds
    while not (replies := vacation_replies(target, user, password, token)) and time.monotonic() < deadline:
        time.sleep(1)
    assert len(replies) == 1, [r["Subject"] for r in replies]
    reply = replies[0]
    assert header_text(reply["Subject"]) == subject, reply["Subject"]
    assert away in reply["From"] and reply["In-Reply-To"] == in_reply_to, dict(reply)
    assert (reply["Auto-Submitted"] or "").startswith("auto-replied"), dict(reply)
    return reply
