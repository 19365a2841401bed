#!/usr/bin/env python3
"""Webmail latency: log in, then list the inbox of a mailbox with 5,000 messages.

    scripts/bench_webmail.py --container bench-mail13 [--messages 5000] [--sessions 1 20]

Against a host converged by playbooks/site.yml with the lab inventory in mail_webmail
(scripts/bench.sh makes one), fills the INBOX of a lab account with --messages messages
(written straight into its Maildir, then indexed by Dovecot), then, for each number of
sessions, that many browsers at once each log in and list the inbox
(tests/helpers/webmail_bench.py), and the same list straight over IMAPS as the floor.
Prints p50 and p95 in milliseconds and the ratio to the floor, and whether the target
(inbox list p95 <= 500 ms at 20 sessions, on 2 cores) is met. Prints figures; asserts
nothing about time; never part of the test suite (its smoke is:
molecule/edge/tests/test_webmail_bench.py).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.lab import load_lab_data, target_for  # noqa: E402
from tests.helpers.webmail_bench import HEADER, fill_folder, folder_count, measure  # noqa: E402

USER = "vanphong@gialai.gov.vn"  # an active account of the lab data
TARGET_MS = 500  # inbox list p95 at 20 sessions, on 2 cores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--container", required=True)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--user", default=USER)
    parser.add_argument("--folder", default="INBOX")
    parser.add_argument("--rounds", type=int, default=2, help="logins per session")
    parser.add_argument("--lists", type=int, default=10, help="list requests per login")
    args = parser.parse_args()

    def host_exec(argv, check=True):
        return subprocess.run(["podman", "exec", args.container, *argv], capture_output=True, text=True,
                              check=check).stdout

    lab = load_lab_data()
    target = target_for(args.container, lab.hostname)
    password = lab.passwords[args.user]
    start = time.monotonic()
    if folder_count(host_exec, args.user, args.folder) != args.messages:
        fill_folder(host_exec, args.user, args.folder, args.messages)
    filled = time.monotonic() - start
    print(f"\nwebmail latency: log in, then list {args.folder} of {args.user} with {args.messages} messages "
          f"({os.cpu_count()} cores; {args.rounds} logins x {args.lists} lists per session; "
          f"folder filled in {filled:.0f} s)")
    print(HEADER)
    at_target = None
    for sessions in args.sessions:
        login, listed, imap = measure(target, lab.hostname, args.user, password, args.folder, args.messages,
                                      sessions, args.rounds, args.lists)
        for figures in (login, listed, imap):
            print(figures.line())
        print(f"  {'list / IMAP floor (p50, p95)':<32} {sessions:>8} {listed.p50 / imap.p50:>8.1f} "
              f"{listed.p95 / imap.p95:>8.1f}")
        if sessions == 20:
            at_target = listed.p95
    if at_target is not None:
        print(f"  target: list p95 <= {TARGET_MS} ms at 20 sessions: "
              f"{'met' if at_target <= TARGET_MS else 'MISSED'} ({at_target:.0f} ms)")


if __name__ == "__main__":
    main()
