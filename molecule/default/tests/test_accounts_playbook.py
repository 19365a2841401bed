"""playbooks/accounts.yml: account changes only, previewed with --check --diff,
applied without touching the rest of the configuration, and idempotent; an
account it suspends is logged out of the IMAP sessions it has open.

Each step runs once against every instance, as an operator runs it against the
inventory (one playbook run per step, the hosts side by side); what each host
showed is then judged per host.
"""

from __future__ import annotations

import imaplib
import os

import pytest

from tests.helpers.lab import changed_counts, load_lab_data, podman_env, run_site, target_for
from tests.helpers.labdata import lab_mail
from tests.helpers.mailclient import (IMAPS, imap_closed_by_server, imap_idle, imap_idle_end, imap_wait_for,
                                      make_message, smtp_send)
from tests.helpers.podman_host import podman_host

# Runs alone (tests/helpers/exclusive.py): adds, suspends and removes accounts (tables rebuilt, Postfix reloaded).
pytestmark = pytest.mark.exclusive

NEW = "thuvien@gialai.gov.vn"
NEW_PASSWORD = "Thu-vien-2026!"
# Suspended by the same change (ACC-08), active again when the inventory is re-applied;
# BYSTANDER stays active throughout.
SUSPENDED = "hoatt@gialai.gov.vn"
BYSTANDER = "locnv@gialai.gov.vn"
# A main.cf input changed in the same runs (an operator's edit waiting for the next full run):
# accounts.yml writes the account tables only (the postfix role's entry point accounts), so main.cf keeps
# the old banner.
PENDING_MAIN_CF_CHANGE = {"postfix_banner": "$myhostname ESMTP pending"}


def _accounts_with_new_one() -> list[dict]:
    """The lab's accounts plus a new one, with SUSPENDED suspended."""
    accounts = lab_mail()["accounts"]  # the lab's directory, as the mail_* layer renders it
    accounts = [dict(a, state="suspended") if a["address"] == SUSPENDED else a for a in accounts]
    return accounts + [{"address": NEW, "name": "Thư viện tỉnh", "password": NEW_PASSWORD}]


def _accounts(extra: dict, *args: str):
    return run_site(None, extra, "all", playbook="playbooks/accounts.yml", args=list(args))


def _listed(host) -> bool:
    return NEW in host.file("/etc/postfix/virtual_mailboxes").content_string


def _deliver(target, lab_hostname: str) -> int | str:
    """Mail to the new account over SMTP, read back over IMAPS: how many arrived (or the error)."""
    try:
        msg = make_message("sender@partner.example", [NEW], "Chào thư viện")
        if smtp_send(target, msg, port=25) != {}:
            return "refused at RCPT"
        return len(imap_wait_for(target, NEW, NEW_PASSWORD, msg["Message-ID"]))
    except Exception as exc:  # noqa: BLE001 -- reported against the host by the test
        return f"{type(exc).__name__}: {exc}"


def _login_refused(target, user: str = NEW, password: str = NEW_PASSWORD) -> bool:
    with IMAPS(target) as imap:
        try:
            imap.login(user, password)
        except imaplib.IMAP4.error:
            return True
        return False


@pytest.fixture(scope="module")
def account_flow(instance_names) -> dict:
    """Preview, apply, re-apply and revert the new account (and SUSPENDED's suspension) on every
    instance, with IMAP sessions open in IDLE through the runs; what each showed."""
    os.environ.update({k: v for k, v in podman_env().items() if k == "CONTAINERS_CONF"})
    lab = load_lab_data()
    hosts = {n: podman_host(n) for n in instance_names}
    targets = {n: target_for(n, lab.hostname) for n in instance_names}
    seen: dict = {n: {} for n in instance_names}
    for n, h in hosts.items():
        seen[n]["main_cf"] = h.file("/etc/postfix/main.cf").sha256sum
        seen[n]["dovecot_conf"] = h.file("/etc/dovecot/dovecot.conf").sha256sum
    extra = {"mail_accounts": _accounts_with_new_one(), **PENDING_MAIN_CF_CHANGE}
    flow: dict = {"hosts": seen}
    # Phones waiting in IDLE: the account about to be suspended and a bystander.
    idle = {n: {who: imap_idle(targets[n], who, lab.password(who)) for who in (SUSPENDED, BYSTANDER)}
            for n in instance_names}
    try:
        # Dry run: shows the account that would change, changes nothing (logs nobody out).
        flow["preview"] = _accounts(extra, "--check", "--diff")
        for n, h in hosts.items():
            seen[n]["listed_after_preview"] = _listed(h)
            seen[n]["suspended_idle_after_preview"] = imap_closed_by_server(idle[n][SUSPENDED], timeout=2)
        flow["applied"] = _accounts(extra)
        for n, h in hosts.items():
            # the server ends the suspended account's session (bounded wait)
            seen[n]["suspended_idle_after_apply"] = imap_closed_by_server(idle[n][SUSPENDED], timeout=30)
            seen[n]["delivered"] = _deliver(targets[n], lab.hostname)
            seen[n]["main_cf_after"] = h.file("/etc/postfix/main.cf").sha256sum
            seen[n]["dovecot_conf_after"] = h.file("/etc/dovecot/dovecot.conf").sha256sum
            idle[n][NEW] = imap_idle(targets[n], NEW, NEW_PASSWORD)
        # Second run: nothing to do (existing hashes kept despite random salts), nobody logged out.
        flow["again"] = _accounts(extra)
        for n in instance_names:
            seen[n]["new_idle_after_again"] = imap_closed_by_server(idle[n][NEW], timeout=2)
            seen[n]["bystander_idle_end"] = imap_idle_end(idle[n][BYSTANDER])
    finally:
        flow["back"] = _accounts({})
    for n, h in hosts.items():
        seen[n]["login_refused_after_back"] = _login_refused(targets[n])
        seen[n]["listed_after_back"] = _listed(h)
        seen[n]["suspended_login_refused_after_back"] = _login_refused(targets[n], SUSPENDED,
                                                                      lab.password(SUSPENDED))
    return flow


@pytest.mark.control("ACC-05")
def test_new_account_previewed_applied_once_and_removed_again(mail, account_flow):
    seen = account_flow["hosts"][mail.name]

    preview = account_flow["preview"]
    out = preview.stdout + preview.stderr
    assert preview.returncode == 0, out[-3000:]
    assert f"+{NEW}" in out.replace(" ", ""), out[-3000:]
    assert NEW_PASSWORD not in out
    assert not seen["listed_after_preview"], "--check changed the host"

    applied = account_flow["applied"]
    out = applied.stdout + applied.stderr
    assert applied.returncode == 0, out[-3000:]
    assert changed_counts(applied.stdout)[mail.name] > 0
    assert NEW_PASSWORD not in out
    # The new account receives and logs in; nothing else was rewritten (main.cf not even with the
    # changed banner of the same run).
    assert seen["delivered"] == 1, seen["delivered"]
    assert seen["main_cf_after"] == seen["main_cf"]
    assert seen["dovecot_conf_after"] == seen["dovecot_conf"]

    again = account_flow["again"]
    assert again.returncode == 0 and changed_counts(again.stdout)[mail.name] == 0, again.stdout[-3000:]
    assert seen["new_idle_after_again"] is None, f"the re-run logged an account out: {seen['new_idle_after_again']}"

    # Back to the inventory: the account is gone from both services.
    back = account_flow["back"]
    assert back.returncode == 0, (back.stdout + back.stderr)[-3000:]
    assert seen["login_refused_after_back"]
    assert not seen["listed_after_back"]


@pytest.mark.control("ACC-08")
def test_suspending_an_account_ends_its_open_imap_sessions(mail, account_flow):
    seen = account_flow["hosts"][mail.name]
    # --check logs nobody out
    assert seen["suspended_idle_after_preview"] is None, seen["suspended_idle_after_preview"]
    applied = account_flow["applied"]
    assert applied.returncode == 0, (applied.stdout + applied.stderr)[-3000:]
    # the server closed the IDLE session of the account the run suspended (BYE, or the connection)
    assert seen["suspended_idle_after_apply"] is not None, f"{SUSPENDED}'s IDLE session stayed open 30 s"
    # only that account's: another user's session, idle through both runs, answers DONE with OK
    assert seen["bystander_idle_end"].startswith("OK"), seen["bystander_idle_end"]
    # re-applying the inventory makes it active again (the other tests log in as it)
    assert account_flow["back"].returncode == 0
    assert not seen["suspended_login_refused_after_back"], f"{SUSPENDED} is still locked"
