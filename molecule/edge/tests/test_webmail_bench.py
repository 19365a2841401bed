"""The webmail benchmark's smoke: scripts/bench_webmail.py's code, small, on our webmail host.

`make bench` measures login and the inbox list of a 5,000-message mailbox with 1 and 20
sessions (tests/helpers/webmail_bench.py). This runs the same code against a folder of
300 in a few seconds, so the benchmark cannot rot unseen: it asserts that every answer
was the real one (logged in, the folder's 50 rows, its message count, the IMAP floor's
rows), never a time. The figures go to reports/scanners-<host>.txt (printed at the end).
"""

from __future__ import annotations

from tests.helpers.lab import podman
from tests.helpers.scanners import record
from tests.helpers.webmail_bench import PAGE_SIZE, fill_folder, measure

# an active lab account that no test fails logins for (Roundcube refuses a login for a minute
# after 3 failed ones, login_rate_limit); its own folder, so no other test sees it
USER = "locnv@gialai.gov.vn"
FOLDER = "Bench"
MESSAGES = 300


def test_webmail_bench_smoke(edge):
    def host_exec(argv, check=True):
        return podman("exec", edge.mail.name, *argv, check=check).stdout

    try:
        assert fill_folder(host_exec, USER, FOLDER, MESSAGES) == MESSAGES
        lines = []
        for sessions in (1, 4):
            login, listed, imap = measure(edge.mail.target, edge.mail.hostname, USER, edge.mail.password(USER),
                                          FOLDER, MESSAGES, sessions, rounds=1, lists=2)
            assert len(login.samples) == sessions and len(listed.samples) == 2 * sessions
            assert len(imap.samples) == 2 * sessions
            lines.append(f"{sessions} session(s): login p50 {login.p50:.0f}, list p50/p95 {listed.p50:.0f}/"
                         f"{listed.p95:.0f}, IMAP floor p50/p95 {imap.p50:.0f}/{imap.p95:.0f}")
        record(edge.mail, "webmail-bench-smoke", f"{FOLDER} of {MESSAGES}, {PAGE_SIZE} rows a list, ms: "
                                                 + "; ".join(lines))
    finally:
        host_exec(["doveadm", "mailbox", "delete", "-u", USER, "-r", "-s", FOLDER], check=False)
