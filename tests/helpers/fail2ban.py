"""A clean slate for a test's attacker address in fail2ban, and an address with no recent failures.

`fail2ban-client unban` lifts a ban but fail2ban remembers the address: with
`bantime.increment` (roles/fail2ban) its database keeps the address's ban count per jail,
and a repeat offender's next failure counts 2^(n-1) times (fail2ban's observer: "Found
<ip>, bad ... # -> 2.0"), so after a few bans one failed login bans it at once. That is
the production behaviour for a real repeat offender, but a test that attacks from the
same address as an earlier test (the one administrators' workstation address, or an
address podman hands out again) would then see a ban before its first refusal: run ten
times in a row on one lab, F2B-04 did. `forget` unbans and deletes the address's ban
history, so each test starts from the threshold it asserts.

Failures that did not reach a ban are counted for findtime and no command clears them
(nor one that arrives while the ban is being made: sshd's aggressive filter finds two lines
per refused login, and the one after the threshold waits for the next run): a test judges
the threshold on every failure counted within findtime before the ban (`counted_since`),
and `quiet_address` picks, among candidate addresses, one that no jail has counted within
that window (a second run of a test within ten minutes does not add to the first's).
"""

from __future__ import annotations

import datetime
import re
import shlex

FORGET = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
with db:
    for table in ("bips", "bans"):
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone():
            db.execute(f"DELETE FROM {table} WHERE ip = ?", (sys.argv[2],))
left = sum(db.execute(f"SELECT count(*) FROM {t} WHERE ip = ?", (sys.argv[2],)).fetchone()[0] for t in ("bips", "bans"))
print(left)
"""


def jails(host) -> list[str]:
    """The names of fail2ban's jails on the testinfra `host`, as `fail2ban-client status` lists them."""
    listed = re.search(r"Jail list:\s*(.*)", host.run("fail2ban-client status").stdout)
    assert listed, "fail2ban lists no jail"
    return [j.strip() for j in listed.group(1).split(",") if j.strip()]


def failed_total(host) -> int:
    """fail2ban's failures counted so far, over every jail (what mail-metrics reports)."""
    total = 0
    for jail in jails(host):
        status = host.run(f"fail2ban-client status {jail}").stdout
        total += int(re.search(r"Total failed:\s*(\d+)", status).group(1))
    return total


def forget(host, ip: str) -> None:
    """Unban `ip` in every jail and delete its ban history; asserts none is left."""
    host.run(f"fail2ban-client unban {ip}")
    dbfile = re.search(r"(/\S+\.sqlite3)", host.run("fail2ban-client get dbfile").stdout)
    assert dbfile, "fail2ban's database file not found"
    left = host.run(f"python3 -c {shlex.quote(FORGET)} {dbfile.group(1)} {ip}")
    assert left.rc == 0 and left.stdout.strip() == "0", (left.stdout, left.stderr)


def counted_since(log: str, now: datetime.datetime, seconds: int) -> dict[str, int]:
    """{address: failures fail2ban found in the last `seconds` before `now`} from
    /var/log/fail2ban.log text (lines after `now` are not counted), `now` in the host's local
    time (the log's)."""
    counts: dict[str, int] = {}
    # the filter's lines only: the observer's "Found <ip>, bad" repeats one of them
    for stamp, ip in re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ fail2ban\.filter .*\] Found (\S+) - ", log, re.M):
        when = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S")
        if 0 <= (now - when).total_seconds() <= seconds:
            counts[ip] = counts.get(ip, 0) + 1
    return counts


def quiet_address(host, candidates: list[str], seconds: int) -> str:
    """The first of `candidates` with no failure counted in the last `seconds` (the jails'
    findtime), else the one with the fewest."""
    now = datetime.datetime.strptime(host.run("date '+%Y-%m-%d %H:%M:%S'").stdout.strip(), "%Y-%m-%d %H:%M:%S")
    counts = counted_since(host.run("cat /var/log/fail2ban.log").stdout, now, seconds)
    return min(candidates, key=lambda ip: (counts.get(ip, 0), candidates.index(ip)))


def stamp(line: str) -> datetime.datetime:
    """The time of a /var/log/fail2ban.log line (the host's local time)."""
    return datetime.datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S")
