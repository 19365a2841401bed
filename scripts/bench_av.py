#!/usr/bin/env python3
"""Antivirus throughput: messages per second with and without clamav-milter.

    scripts/bench_av.py [--container bench-mail13] [--sessions 5] [--small 300] [--large 100]

Runs Postfix's smtp-source inside the container against 127.0.0.1:25 (loopback
is in mynetworks) and times each batch from the first SMTP connection until the
last message is in the recipient's Maildir: the whole pipeline Postfix ->
clamav-milter -> clamd -> LMTP -> Dovecot -> Maildir. The "without" runs take
clamav-milter out of smtpd_milters and non_smtpd_milters and keep the other
milters (OpenDKIM, OpenDMARC), so the ratio is the antivirus's alone.
All mail goes to one mailbox, and Dovecot answers "451 Too many concurrent
deliveries for user" beyond 10 parallel LMTP deliveries to one user (the
message then waits for Postfix's retry), so both modes run with
lmtp_destination_concurrency_limit = --lmtp (default 5). main.cf is restored
byte for byte and Postfix reloaded afterwards, whatever happens. The messages
delivered by the benchmark are deleted again.

Prints figures and asserts nothing. scripts/bench.sh (make bench) runs it on
its freshly converged host; any converged host with the milter will do
(--container lab-mail13 after make lab). Never part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
RCPT = "vanphong@gialai.gov.vn"
MAILDIR = "/var/vmail/gialai.gov.vn/vanphong/Maildir"
MARK = "/run/bench-av.mark"
BACKUP = "/etc/postfix/main.cf.bench-av"


def sh(container: str, script: str) -> str:
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(ROOT / "lab" / "containers.conf"))
    result = subprocess.run(["podman", "exec", container, "sh", "-c", script],
                            capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{container}: `{script}` failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout.strip()


def delivered(container: str) -> int:
    return int(sh(container, f"find {MAILDIR}/new {MAILDIR}/cur -type f -newer {MARK} | wc -l"))


def batch(container: str, size: int, count: int, sessions: int, timeout: float = 300) -> float:
    """Send `count` messages of `size` bytes; seconds until all are in the Maildir."""
    sh(container, f"touch -d '-1 second' {MARK}")
    start = time.monotonic()
    sh(container, f"smtp-source -d -s {sessions} -l {size} -m {count} -M bench.partner.example "
                  f"-f bench@partner.example -t {RCPT} 127.0.0.1:25")
    while (got := delivered(container)) < count:
        if time.monotonic() - start > timeout:
            raise SystemExit(f"only {got} of {count} messages delivered after {timeout:.0f} s "
                             f"(postqueue -p in the container shows why)")
        time.sleep(0.2)
    elapsed = time.monotonic() - start
    sh(container, f"find {MAILDIR}/new {MAILDIR}/cur -type f -newer {MARK} -delete")
    return elapsed


def postconf(container: str, *settings: str) -> None:
    quoted = " ".join(f"'{setting}'" for setting in settings)
    sh(container, f"postconf -e {quoted} && postfix reload 2>/dev/null")
    time.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--container", default="bench-mail13")
    parser.add_argument("--sessions", type=int, default=5, help="parallel SMTP sessions")
    parser.add_argument("--small", type=int, default=300, help="number of 1 KB messages per run")
    parser.add_argument("--large", type=int, default=100, help="number of 100 KB messages per run")
    parser.add_argument("--lmtp", type=int, default=5, help="lmtp_destination_concurrency_limit during the runs")
    args = parser.parse_args()
    c = args.container
    if not sh(c, "postconf -h smtpd_milters"):
        raise SystemExit(f"{c}: Postfix has no milters; run against a host converged by playbooks/site.yml")
    if sh(c, f"test -e {BACKUP} && echo left || true"):
        raise SystemExit(f"{c}: {BACKUP} exists (an earlier run was interrupted): restore it first")
    version = sh(c, "clamd --version")
    cases = [("1 KB", 1024, args.small), ("100 KB", 100 * 1024, args.large)]
    # "without AV" keeps every other milter (OpenDKIM, OpenDMARC): the ratio is ClamAV's alone.
    # clamav-milter's socket as clamav-milter.conf names it (inet:PORT@HOST or a unix path);
    # Postfix names the same socket inet:HOST:PORT or unix:PATH, so the two share their end.
    sock = sh(c, "sed -n 's/^MilterSocket[[:space:]]*//p' /etc/clamav/clamav-milter.conf").strip()
    end = ":" + sock[len("inet:"):].partition("@")[0] if sock.startswith("inet:") else sock

    def is_clamav(milter: str) -> bool:
        return bool(sock) and milter.endswith(end)

    on, off = [], []
    for param in ("smtpd_milters", "non_smtpd_milters"):
        value = sh(c, f"postconf -h {param}")
        on.append(f"{param}={value}")
        off.append(f"{param}=" + ", ".join(m for m in (x.strip() for x in value.split(",")) if m and not is_clamav(m)))
    if on == off:
        raise SystemExit(f"{c}: no clamav-milter among Postfix's milters ({on})")
    rows = []
    sh(c, f"cp -p /etc/postfix/main.cf {BACKUP}")
    try:
        postconf(c, f"lmtp_destination_concurrency_limit={args.lmtp}")
        for label, size, count in cases:
            postconf(c, *off)
            batch(c, size, 5, args.sessions)  # warm up: processes started, caches filled
            without = batch(c, size, count, args.sessions)
            postconf(c, *on)
            batch(c, size, 5, args.sessions)
            with_av = batch(c, size, count, args.sessions)
            rows.append((label, count, count / without, count / with_av))
    finally:
        sh(c, f"mv -f {BACKUP} /etc/postfix/main.cf && postfix reload 2>/dev/null")
    print(f"\n{c}: {version}; smtp-source -> 127.0.0.1:25 -> Maildir; {args.sessions} SMTP sessions, "
          f"{args.lmtp} LMTP deliveries in parallel")
    print(f"{'message':>8} {'count':>6} {'without AV':>14} {'with AV':>14} {'with/without':>13}")
    for label, count, rate_off, rate_on in rows:
        print(f"{label:>8} {count:>6} {rate_off:>10.1f} m/s {rate_on:>10.1f} m/s {rate_on / rate_off:>13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
