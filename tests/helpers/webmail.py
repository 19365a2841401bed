"""An HTTPS client for the webmail that dials an address but verifies the host name.

Like tests/helpers/mailclient.py for SMTP and IMAP: the tests connect to a
container's address while TLS checks the certificate against the mail host name
and the lab CA, as a browser that trusts the lab CA would. Standard library only
(it also runs inside the throw-away client containers, see WEBMAIL_CLIENT below).
"""

from __future__ import annotations

import html
import http.client
import json
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


def request_token(b: Browser) -> str:
    """The request token of a logged-in session (what the page's script sends with every request)."""
    page = b.get("/?_task=mail&_mbox=INBOX")
    assert page.status == 200 and logged_in(page.body), page.body[:2000]
    token = re.search(r'"request_token":"([^"]+)"', page.body)
    assert token, page.body[:2000]
    return token[1]


def post_form(b: Browser, path: str, pairs: list[tuple[str, str]]):
    """A form of Roundcube's pages, posted as the browser posts it (fields may repeat: _email[])."""
    answer = b.request("POST", path, body=urllib.parse.urlencode(pairs).encode(),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 200, (path, answer.status, answer.body[:2000])
    return answer


def add_contact(b: Browser, token: str, contact: dict[str, str]) -> None:
    """The address book's "create contact" form (personal address book, source 0)."""
    post_form(b, "/?_task=addressbook&_action=save", [
        ("_token", token), ("_source", "0"), ("_framed", "1"), ("_cid", ""),
        ("_firstname", contact["firstname"]), ("_surname", contact["surname"]),
        ("_email[]", contact["email"]), ("_subtype_email[]", "home")])


def contacts(b: Browser, token: str) -> tuple[str, str]:
    """What Roundcube answers for the personal address book: the list the page shows (its AJAX answer, the
    rows' data decoded) and the address book exported as vCards (unfolded)."""
    listed = b.request("GET", "/?_task=addressbook&_action=list&_source=0&_remote=1",
                       headers={"X-Roundcube-Request": token})
    assert listed.status == 200, (listed.status, listed.body[:2000])
    rows = []
    for args in re.findall(r"add_contact_row\((.*?)\);", json.loads(listed.body).get("exec", "")):
        rows.append(json.dumps(json.loads(f"[{args}]"), ensure_ascii=False))
    vcards = b.get(f"/?_task=addressbook&_action=export&_source=0&_token={urllib.parse.quote(token)}")
    # an empty address book exports nothing at all
    assert vcards.status == 200 and (vcards.body == "" or "BEGIN:VCARD" in vcards.body), (vcards.status,
                                                                                          vcards.body[:2000])
    return "\n".join(rows), re.sub(r"\r?\n[ \t]", "", vcards.body)


def identities(b: Browser) -> str:
    """The settings' list of identities, as the page shows it (text of the table)."""
    page = b.get("/?_task=settings&_action=identities")
    assert page.status == 200, (page.status, page.body[:2000])
    table = re.search(r'<table[^>]*id="identities-table".*?</table>', page.body, re.S)
    assert table, page.body[:3000]
    return html.unescape(re.sub(r"<[^>]+>", " ", table[0]))


def contact_shown(listed: str, vcards: str, contact: dict[str, str]) -> bool:
    name = f"{contact['firstname']} {contact['surname']}"
    return (contact["email"] in listed and name in listed
            and f"FN:{name}" in vcards and contact["email"] in vcards)
