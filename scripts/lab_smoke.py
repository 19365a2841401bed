#!/usr/bin/env python3
"""Show that mail flows through each lab host, then print how to reach it.

For every container named on the command line: an outside client sends a mail
over SMTP (port 25) to a local user, an authenticated user sends one through
submission (587, STARTTLS), and both are read back over IMAPS (993) with the
certificate verified against the lab CA. Exit status 1 if any step fails.
"""

from __future__ import annotations

import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from tests.helpers.lab import load_lab_data, podman, target_for  # noqa: E402
from tests.helpers.mailclient import imap_wait_for, make_message, smtp_send  # noqa: E402


def check(container: str) -> list[str]:
    lab = load_lab_data()
    target = target_for(container, lab.hostname)
    rows = []
    rcpt, user = "locnv@gialai.gov.vn", "hoatt@gialai.gov.vn"
    inbound = make_message("doitac@partner.example", [rcpt], "Thư thử nghiệm từ bên ngoài (lab)")
    start = time.monotonic()
    smtp_send(target, inbound, port=25)
    got = imap_wait_for(target, rcpt, lab.password(rcpt), inbound["Message-ID"])
    rows.append(f"inbound  25 -> LMTP -> IMAPS  {rcpt:<24} {'OK' if len(got) == 1 else 'MISSING'}"
                f" ({time.monotonic() - start:.1f}s)")
    sent = make_message(user, [rcpt], "Thư nội bộ qua submission (lab)")
    start = time.monotonic()
    smtp_send(target, sent, port=587, starttls=True, login=(user, lab.password(user)))
    got2 = imap_wait_for(target, rcpt, lab.password(rcpt), sent["Message-ID"])
    rows.append(f"submit  587 -> LMTP -> IMAPS  {user:<24} {'OK' if len(got2) == 1 else 'MISSING'}"
                f" ({time.monotonic() - start:.1f}s)")
    versions = podman("exec", container, "sh", "-c",
                      ". /etc/os-release; echo Debian $VERSION_ID; postconf -h mail_version; dovecot --version").stdout.split("\n")
    print(f"\n== {container}: {lab.hostname} at {target.address}  ({versions[0]}, Postfix {versions[1]}, "
          f"Dovecot {versions[2].split()[0]})")
    for row in rows:
        print("   " + row)
    print(f"   SMTP 25, submission 587 (STARTTLS) / 465 (TLS), IMAP 143 (STARTTLS) / 993 (TLS), "
          f"ManageSieve 4190 (STARTTLS)")
    print("   CA certificate: inventories/lab/tls-ca/ca.crt")
    return [r for r in rows if "MISSING" in r]


def main(containers: list[str]) -> int:
    failures = []
    for container in containers:
        failures += check(container)
    lab = load_lab_data()
    print("\nAccounts: " + ", ".join(lab.accounts) + " (passwords: inventories/lab/group_vars/all/vault.yml)")
    print("Try: swaks --server <address> --port 587 --tls --auth-user hoatt@gialai.gov.vn --to locnv@gialai.gov.vn")
    if failures:
        print("\nFAILED:", *failures, sep="\n  ")
        return 1
    print("\nmail flows through every lab host")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["lab-mail13", "lab-mail12"]))
