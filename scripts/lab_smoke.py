#!/usr/bin/env python3
"""Show that mail flows through each lab host, then print how to reach it.

For every container named on the command line: an outside client sends a mail
over SMTP (port 25) to a local user, an authenticated user sends one through
submission (587, STARTTLS), and both are read back over IMAPS (993) with the
certificate verified against the lab CA. On the hosts of the lab's mail_webmail
group a user also logs in to the webmail over HTTPS (certificate verified), and
its address and a login to try are printed. Exit status 1 if any step fails.
"""

from __future__ import annotations

import pathlib
import sys
import time

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from tests.helpers.lab import load_lab_data, podman, target_for  # noqa: E402
from tests.helpers.mailclient import imap_wait_for, make_message, smtp_send  # noqa: E402
from tests.helpers.webmail import Browser, logged_in  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def group_hosts(group: str) -> set[str]:
    inventory = yaml.safe_load((ROOT / "inventories" / "lab" / "hosts.yml").read_text())
    return set((inventory["all"]["children"].get(group) or {}).get("hosts") or {})


def webmail_hosts() -> set[str]:
    return group_hosts("mail_webmail")


PROMETHEUS = ("import json, urllib.request as u; get = lambda p: json.load(u.urlopen('http://127.0.0.1:9090/api/v1/' + p, "
              "timeout=10))['data']; t = get('targets')['activeTargets']; "
              "r = [x for g in get('rules')['groups'] for x in g['rules']]; "
              "print(sum(x['health'] == 'up' for x in t), len(t), len(r), sorted({x['labels']['host'] for x in t}))")


def monitor_row(container: str) -> str:
    """On a mail_monitor host: Prometheus has its rules and every target answers."""
    deadline = time.monotonic() + 60
    while True:
        result = podman("exec", container, "python3", "-c", PROMETHEUS, check=False)
        up, total, rules, hosts = (result.stdout.split(maxsplit=3) + ["0", "0", "0", ""])[:4] \
            if result.returncode == 0 else ("0", "0", "0", "")
        ok = result.returncode == 0 and int(total) > 0 and up == total and int(rules) > 0
        if ok or time.monotonic() > deadline:
            return (f"monitor 9090 Prometheus: {up}/{total} targets up on {hosts.strip()}, {rules} alert rules  "
                    f"{'OK' if ok else 'MISSING'}")
        time.sleep(5)  # a target scraped for the first time


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
    webmail = container in webmail_hosts()
    if webmail:
        start = time.monotonic()
        browser = Browser(target.address, target.hostname, target.tls_context())
        ok = browser.login(user, lab.password(user)).status == 302 and logged_in(
            browser.get("/?_task=mail&_mbox=INBOX").body)
        rows.append(f"webmail 443 -> IMAPS login     {user:<24} {'OK' if ok else 'MISSING'}"
                    f" ({time.monotonic() - start:.1f}s)")
    if container in group_hosts("mail_monitor"):
        rows.append(monitor_row(container))
    versions = podman("exec", container, "sh", "-c",
                      ". /etc/os-release; echo Debian $VERSION_ID; postconf -h mail_version; dovecot --version").stdout.split("\n")
    print(f"\n== {container}: {lab.hostname} at {target.address}  ({versions[0]}, Postfix {versions[1]}, "
          f"Dovecot {versions[2].split()[0]})")
    for row in rows:
        print("   " + row)
    print(f"   SMTP 25, submission 587 (STARTTLS) / 465 (TLS), IMAP 143 (STARTTLS) / 993 (TLS), "
          f"ManageSieve 4190 (STARTTLS)")
    print("   CA certificate: inventories/lab/tls-ca/ca.crt")
    if webmail:
        print(f"   Webmail: https://{lab.hostname}/  (this machine: add \"{target.address} {lab.hostname}\" to "
              "/etc/hosts and trust the CA certificate above in the browser, README \"Webmail in the lab\")")
        print(f"   Try: {user} / {lab.password(user)}")
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
