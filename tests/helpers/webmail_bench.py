"""Webmail latency: log in, then list a folder of many messages, from N sessions at once.

scripts/bench_webmail.py (make bench: the INBOX of a mailbox with 5,000 messages, 1 and
20 sessions) and a smoke in the edge scenario (molecule/edge/tests/test_webmail_bench.py:
a folder of 300, so this code cannot rot unseen) use it. It prints figures and judges
nothing by time; what it checks is that every answer is the real thing (a logged-in
session, the folder's rows, the folder's message count), so a figure is never the speed
of an error page.

Each session is a browser that keeps its HTTPS connection open (as browsers do) and
its cookies: it logs in (Roundcube's form: GET /, POST the login; timed), opens the mail
page (its request token), then asks for the folder's list as the page's script does
(the AJAX `_action=list` request; timed). The floor is the same list straight over
IMAPS, as Roundcube asks Dovecot for it on every request: connect, LOGIN, SELECT, FETCH
the page's rows (the headers Roundcube's list shows), LOGOUT.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

from .mailclient import IMAPS, Target
from .webmail import Browser, logged_in

PAGE_SIZE = 50  # Roundcube's default mail_pagesize (rows of one list request)
# The header fields Roundcube 1.6 fetches for a list row (rcube_imap_generic::fetchHeaders).
LIST_FETCH = ("(UID RFC822.SIZE FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS "
              "(DATE FROM TO SUBJECT CONTENT-TYPE CC REPLY-TO LIST-POST DISPOSITION-NOTIFICATION-TO X-PRIORITY)])")

# Writes `count` messages straight into a Maildir folder on the mail host (run there with
# python3; doveadm then indexes them). Vietnamese subjects and bodies, distinct senders and dates.
FILL = r"""
import os, sys, time
maildir, count, uid, gid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(maildir, sub), mode=0o700, exist_ok=True)
    os.chown(os.path.join(maildir, sub), uid, gid)
os.chown(maildir, uid, gid)
base, now = 1767225600, int(time.time())  # the messages' dates from 2026-01-01
for i in range(count):
    t = base + i * 600
    msg = ("From: =?utf-8?b?Tmd1eeG7hW4gVsSDbiBM4buZYw==?= <nguoigui%d@partner.example>\r\n"
           "To: <%s>\r\nSubject: =?utf-8?b?Q8O0bmcgdsSDbg==?= %d\r\n"
           "Date: %s\r\nMessage-ID: <bench-%d@gialai.gov.vn>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           % (i % 97, sys.argv[5], i, time.strftime("%a, %d %b %Y %H:%M:%S +0700", time.gmtime(t)), i))
    body = ("Kính gửi các đơn vị: văn bản số %d về việc triển khai công tác.\r\n" % i) * 12
    data = (msg + body).encode()
    # unique per fill: Dovecot remembers the names of expunged files (their reappearance is an error)
    name = "%d.M%dP%d.%d.bench,S=%d:2,%s" % (t, i, os.getpid(), now, len(data), "S" if i % 3 else "")
    path = os.path.join(maildir, "cur", name)
    with open(path, "wb") as f:
        f.write(data)
    os.chown(path, uid, gid)
    os.chmod(path, 0o600)
"""


def fill_folder(host_exec, user: str, folder: str, count: int) -> int:
    """Put `count` messages in `folder` of `user` on the mail host (a new folder, or INBOX emptied
    first). host_exec(argv, stdin=None) runs a command there and returns its stdout.
    Returns the number of messages Dovecot then counts in the folder."""
    if folder != "INBOX":
        host_exec(["doveadm", "mailbox", "delete", "-u", user, "-r", "-s", folder], check=False)
        host_exec(["doveadm", "mailbox", "create", "-u", user, folder])
    else:
        host_exec(["doveadm", "expunge", "-u", user, "mailbox", folder, "all"])
    home = host_exec(["doveadm", "user", "-f", "home", user]).strip()
    uid, gid = (host_exec(["stat", "-c", "%u %g", home]).split())
    maildir = f"{home}/Maildir" + ("" if folder == "INBOX" else f"/.{folder}")
    host_exec(["python3", "-c", FILL, maildir, str(count), uid, gid, user])
    return folder_count(host_exec, user, folder)


def folder_count(host_exec, user: str, folder: str) -> int:
    """The number of messages Dovecot counts in the folder (-1: no such folder)."""
    out = host_exec(["doveadm", "-f", "flow", "mailbox", "status", "-u", user, "messages", folder], check=False)
    m = re.search(r"messages=(\d+)", out)
    return int(m.group(1)) if m else -1


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Figures:
    what: str
    sessions: int
    samples: list = field(default_factory=list)  # milliseconds

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95)

    def line(self) -> str:
        return f"  {self.what:<32} {self.sessions:>8} {self.p50:>8.0f} {self.p95:>8.0f} {len(self.samples):>8}"


HEADER = f"  {'':<32} {'sessions':>8} {'p50 ms':>8} {'p95 ms':>8} {'requests':>8}"


def request_token(html: str) -> str:
    m = re.search(r'"request_token":"([^"]+)"', html)
    assert m, "no request_token in the mail page: " + html[:500]
    return m.group(1)


def list_rows(answer, folder: str) -> tuple[int, int | None]:
    """(rows, the folder's message count) in the answer of Roundcube's list request."""
    assert answer.status == 200, (answer.status, answer.body[:500])
    doc = json.loads(answer.body)
    script = doc.get("exec", "")
    assert doc.get("action") == "list", answer.body[:500]
    return script.count("this.add_message_row("), (doc.get("env") or {}).get("messagecount")


class Session:
    """One browser: its own keep-alive connection and cookies."""

    def __init__(self, target: Target, hostname: str):
        self.browser = Browser(target.address, hostname, target.tls_context(), keep_alive=True)
        self.token = None

    def login(self, user: str, password: str) -> float:
        """Log in (timed: the login form and its POST), then open the mail page for its token."""
        start = time.monotonic()
        answer = self.browser.login(user, password)
        took = time.monotonic() - start
        assert answer.status == 302, (answer.status, answer.body[:500])
        page = self.browser.get("/?_task=mail&_mbox=INBOX")
        assert page.status == 200 and logged_in(page.body), page.body[:500]
        self.token = request_token(page.body)
        return took * 1000

    def list(self, folder: str, expect: int) -> float:
        start = time.monotonic()
        answer = self.browser.request(
            "GET", f"/?_task=mail&_action=list&_mbox={urllib.parse.quote(folder)}&_page=1&_remote=1",
            headers={"X-Roundcube-Request": self.token, "X-Requested-With": "XMLHttpRequest"})
        took = time.monotonic() - start
        rows, count = list_rows(answer, folder)
        assert rows == min(PAGE_SIZE, expect) and count == expect, (rows, count, expect)
        return took * 1000

    def close(self) -> None:
        self.browser.close()


def imap_list(target: Target, user: str, password: str, folder: str, expect: int) -> float:
    """The floor: the same list straight over IMAPS (new connection, as Roundcube makes one per request)."""
    start = time.monotonic()
    imap = IMAPS(target)
    try:
        imap.login(user, password)
        typ, data = imap.select(f'"{folder}"', readonly=True)
        assert typ == "OK" and int(data[0]) == expect, (typ, data)
        first = max(1, expect - PAGE_SIZE + 1)
        typ, data = imap.fetch(f"{first}:{expect}", LIST_FETCH)
        assert typ == "OK" and sum(1 for d in data if isinstance(d, tuple)) == min(PAGE_SIZE, expect), typ
        imap.logout()
    finally:
        try:
            imap.shutdown()
        except OSError:
            pass
    return (time.monotonic() - start) * 1000


def _together(sessions: int, work) -> list:
    """Run work(i) in `sessions` threads started at once; every thread's result (or its exception)."""
    results: list = [None] * sessions
    barrier = threading.Barrier(sessions)

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as e:  # noqa: BLE001 (re-raised below, in the caller's thread)
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    return results


def measure(target: Target, hostname: str, user: str, password: str, folder: str, expect: int,
            sessions: int, rounds: int, lists: int) -> tuple[Figures, Figures, Figures]:
    """`sessions` browsers at once, each `rounds` times: log in, list the folder `lists` times,
    log out. Then the IMAP floor, `sessions` at once, `rounds * lists` each.
    Returns (login, list, IMAP floor) figures."""
    def browse(_i):
        logins, listed = [], []
        for _ in range(rounds):
            s = Session(target, hostname)
            try:
                logins.append(s.login(user, password))
                listed += [s.list(folder, expect) for _ in range(lists)]
                s.browser.get("/?_task=logout&_token=" + s.token)
            finally:
                s.close()
        return logins, listed

    def floor(_i):
        return [imap_list(target, user, password, folder, expect) for _ in range(rounds * lists)]

    # warm-up (not counted): one list, so Dovecot has indexed and cached the folder
    warm = Session(target, hostname)
    warm.login(user, password)
    warm.list(folder, expect)
    warm.close()
    login, listed, imap = Figures("log in", sessions), Figures(f"list {folder}", sessions), \
        Figures(f"same list over IMAPS (floor)", sessions)
    for logins, lists_ms in _together(sessions, browse):
        login.samples += logins
        listed.samples += lists_ms
    for samples in _together(sessions, floor):
        imap.samples += samples
    return login, listed, imap
