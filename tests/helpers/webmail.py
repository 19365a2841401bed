"""An HTTPS client for the webmail that dials an address but verifies the host name.

Like tests/helpers/mailclient.py for SMTP and IMAP: the tests connect to a
container's address while TLS checks the certificate against the mail host name
and the lab CA, as a browser that trusts the lab CA would. Standard library only
(it also runs inside the throw-away client containers, see WEBMAIL_CLIENT below).
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import urllib.parse
from dataclasses import dataclass, field


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None

    def cookies(self) -> list[str]:
        return [v for k, v in self.headers if k.lower() == "set-cookie"]


class _Conn(http.client.HTTPSConnection):
    def __init__(self, address: str, hostname: str, context: ssl.SSLContext, port: int = 443, timeout: float = 60):
        super().__init__(hostname, port, context=context, timeout=timeout)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Browser:
    """Keeps cookies like a browser; follows no redirects (the tests assert them).
    keep_alive: one connection for every request (as a browser keeps it; close() ends it),
    else a new connection per request."""

    address: str
    hostname: str
    context: ssl.SSLContext
    jar: dict[str, str] = field(default_factory=dict)
    keep_alive: bool = False
    _conn: _Conn | None = field(default=None, repr=False)

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None,
                body: bytes | None = None) -> Answer:
        hdrs = {"User-Agent": "Mozilla/5.0 (webmail test)", **(headers or {})}
        if self.jar:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        if not self.keep_alive:
            conn = _Conn(self.address, self.hostname, self.context)
            try:
                answer = self._exchange(conn, method, path, body, hdrs)
            finally:
                conn.close()
        else:
            reused = self._conn is not None
            self._conn = self._conn or _Conn(self.address, self.hostname, self.context)
            try:
                answer = self._exchange(self._conn, method, path, body, hdrs)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # the server closed a kept connection (keepalive_timeout): once more, anew
                if not reused:
                    raise
                self._conn = _Conn(self.address, self.hostname, self.context)
                answer = self._exchange(self._conn, method, path, body, hdrs)
        for cookie in answer.cookies():
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", "deleted") or "expires=Thu, 01 Jan 1970" in cookie or "Max-Age=0" in cookie:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return answer

    @staticmethod
    def _exchange(conn: _Conn, method: str, path: str, body: bytes | None, hdrs: dict) -> Answer:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        return Answer(resp.status, resp.getheaders(), resp.read().decode("utf-8", "replace"))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def get(self, path: str = "/") -> Answer:
        return self.request("GET", path)

    def login(self, user: str, password: str) -> Answer:
        """Roundcube's login form: the page's _token, then POST _task=login, _action=login."""
        page = self.get("/")
        token = login_token(page.body)
        return self.request("POST", "/?_task=login", form={
            "_token": token, "_task": "login", "_action": "login", "_timezone": "Asia/Ho_Chi_Minh",
            "_url": "", "_user": user, "_pass": password})


def login_token(html: str) -> str:
    m = re.search(r'name="_token" value="([^"]+)"', html)
    assert m, "no _token in the login page: " + html[:500]
    return m.group(1)


def logged_in(html: str) -> bool:
    """A logged-in Roundcube page has a logout link; the login page has the login form instead."""
    return "_task=logout" in html and 'id="rcmloginuser"' not in html
