"""tests/helpers/fail2ban.py: the clean slate the fail2ban tests give their attacker address."""

from __future__ import annotations

import datetime
import sqlite3
import subprocess
import sys

from tests.helpers.fail2ban import FORGET, counted_since

# fail2ban 1.0.2's tables (Debian 12), as `sqlite_master` shows them on the lab host
SCHEMA = """
CREATE TABLE jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1);
CREATE TABLE bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL, bantime INTEGER NOT NULL,
  bancount INTEGER NOT NULL default 1, data JSON, FOREIGN KEY(jail) REFERENCES jails(name));
CREATE TABLE bips(ip TEXT NOT NULL, jail TEXT NOT NULL, timeofban INTEGER NOT NULL, bantime INTEGER NOT NULL,
  bancount INTEGER NOT NULL default 1, data JSON, PRIMARY KEY(ip, jail), FOREIGN KEY(jail) REFERENCES jails(name));
"""

LOG = """\
2026-12-06 09:41:08,385 fail2ban.filter         [9036]: INFO    [sshd] Found 10.89.2.254 - 2026-12-06 09:41:08
2026-12-06 09:41:08,399 fail2ban.actions        [9036]: NOTICE  [sshd] Ban 10.89.2.254
2026-12-06 09:41:08,691 fail2ban.observer       [9036]: INFO    [sshd] Found 10.89.2.254, bad - 2026-12-06 09:41:08, 1 # -> 2.0
2026-12-06 09:49:57,455 fail2ban.filter         [9036]: INFO    [dovecot-agency] Found 10.89.2.244 - 2026-12-06 09:49:57
2026-12-06 09:50:01,442 fail2ban.filter         [9036]: INFO    [dovecot] Ignore 10.89.2.244 by ip
2026-12-06 09:50:01,445 fail2ban.filter         [9036]: INFO    [dovecot-agency] Found 10.89.2.244 - 2026-12-06 09:50:01
"""


def test_forget_deletes_the_addresses_ban_history_and_nothing_else(tmp_path):
    db = tmp_path / "fail2ban.sqlite3"
    with sqlite3.connect(db) as c:
        c.executescript(SCHEMA)
        c.executemany("INSERT INTO bips VALUES (?, 'sshd', 1, 3600, ?, '{}')", [("10.89.2.254", 3), ("10.89.2.7", 1)])
        c.executemany("INSERT INTO bans VALUES ('sshd', ?, 1, 3600, 1, '{}')", [("10.89.2.254",), ("10.89.2.7",)])
    run = subprocess.run([sys.executable, "-c", FORGET, str(db), "10.89.2.254"], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "0", run
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT ip FROM bips").fetchall() == [("10.89.2.7",)]
        assert c.execute("SELECT ip FROM bans").fetchall() == [("10.89.2.7",)]


def test_counted_since_counts_each_found_line_inside_the_window_only():
    now = datetime.datetime(2026, 12, 6, 9, 52, 0)
    assert counted_since(LOG, now, 600) == {"10.89.2.244": 2}
    assert counted_since(LOG, now, 3600) == {"10.89.2.254": 1, "10.89.2.244": 2}  # not the observer's repeat
    assert counted_since(LOG, datetime.datetime(2026, 12, 6, 9, 49, 58), 3600) == {"10.89.2.254": 1, "10.89.2.244": 1}
    assert counted_since(LOG, now, 60) == {}
