"""Users change their own password in webmail (issue #19, Passwords): WEB-15..WEB-17.

Roundcube's password plugin (driver poppassd) talks to the store's mail-password on
127.0.0.1:106 (roles/dovecot). The server judges: Dovecot checks the current
password, the preflight's own policy code the new one, and its message is what the
page shows. The user-set password lives in a file no run of the roles overwrites; an
administrator's explicit reset (mail_password_resets) is the only thing that gives
the inventory's password back.

Accounts: USER (locnv@) changes their password in the browser; RESET (luutru@, which
the webmail tests after this file log in as) changes it directly and gets the
administrator's reset, in the same run of accounts.yml that must keep USER's. The last
test puts USER's inventory password back through mail-password, so a second verify
starts where the first did.
"""

from __future__ import annotations

import imaplib
import pathlib
import sys

import pytest
from selenium.webdriver.support import expected_conditions as EC

from tests.helpers import browser
from tests.helpers.lab import changed_counts, run_site
from tests.helpers.mail_password import change_password
from tests.helpers.mailclient import IMAPS, imap_closed_by_server, imap_idle
from tests.helpers.webmail import Browser, logged_in

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
# the same page objects and browser fixtures (module-scoped: a browser of this module's own)
from test_webmail_browser import Webmail, driver, webmail  # noqa: E402,F401

from plugins.plugin_utils.password_policy import PolicyError, check_password_policy  # noqa: E402  (the preflight's code)

# No test after this file logs in as USER.
USER = "locnv@gialai.gov.vn"
NEW = "Ke-Hoach#2027zq"
# 2 character classes and the account's name: refused, with every broken rule named.
WEAK = "locnv2027mail"
RESET = "luutru@gialai.gov.vn"
RESET_NEW = "So-Van-Thu#2027"
OWN_FILE = "/var/lib/mail-password/users"


def converse(edge, user: str, old: str, new: str) -> list[str]:
    return change_password(edge.mail.host, user, old, new)


def imap_login(edge, user: str, password: str) -> bool:
    """True when IMAPS (993, from outside the host) accepts the login."""
    imap = IMAPS(edge.mail.target)
    try:
        imap.login(user, password)
    except imaplib.IMAP4.error:
        return False
    finally:
        try:
            imap.logout()
        except (imaplib.IMAP4.abort, OSError):
            pass
    return True


def policy_message(password: str) -> str:
    """The message of the preflight's check for this password (the lab's policy: the role's default)."""
    with pytest.raises(PolicyError) as refused:
        check_password_policy(password, 8, 3, [], name=USER)
    return str(refused.value)


def own_file(edge) -> str:
    return edge.mail.host.run(f"cat {OWN_FILE}").stdout


@pytest.mark.control("WEB-15")
def test_the_server_refuses_a_weak_password_with_the_policys_message_and_a_wrong_current_one(edge):
    before = own_file(edge)
    # the service listens on loopback only
    listening = edge.mail.host.run("ss -Htln 'sport = :106'").stdout.split()
    assert "127.0.0.1:106" in listening and not [a for a in listening if a.endswith(":106") and a != "127.0.0.1:106"]
    # a weak new password, the right current one: refused with the preflight's message
    said = converse(edge, USER, edge.mail.password(USER), WEAK)
    assert said[-1] == f"500 {policy_message(WEAK)}", said
    assert "at least 3 required" in said[-1] and "contains the account name 'locnv'" in said[-1]
    # a good new password, a wrong current one: refused before the new one is asked for
    said = converse(edge, USER, edge.mail.password(USER) + "x", NEW)
    assert said[-1].startswith("500 ") and len(said) == 3, said
    assert own_file(edge) == before
    assert imap_login(edge, USER, edge.mail.password(USER)) and not imap_login(edge, USER, NEW)


@pytest.mark.control("WEB-16")
def test_a_user_changes_their_password_in_the_browser_and_their_other_sessions_end(edge, webmail):
    old = edge.mail.password(USER)
    phone = imap_idle(edge.mail.target, USER, old)  # another session of the user, open before the change
    # and another webmail session (another browser, over HTTPS), logged in before the change
    target = edge.mail.target
    other = Browser(target.address, target.hostname, target.tls_context())
    assert other.login(USER, old).status == 302
    assert logged_in(other.get("/?_task=addressbook").body)
    driver = webmail.driver
    driver.delete_all_cookies()
    webmail.submit_login(USER, old)
    browser.present(driver, "#taskmenu a.logout")  # logged in (the inbox may be empty: no list shown)
    webmail.open("?_task=settings&_action=plugin.password")

    def submit(current: str, new: str) -> tuple[str, str]:
        """Fill in and save the form; the answer the reloaded page shows (kind, text)."""
        form = browser.visible(driver, "#curpasswd")
        for css, value in (("#curpasswd", current), ("#newpasswd", new), ("#confpasswd", new)):
            field = browser.visible(driver, css)
            field.clear()
            field.send_keys(value)
        browser.clickable(driver, "button.mainaction.submit").click()
        browser.until(driver, EC.staleness_of(form), "the saved form's answer")
        shown = browser.visible(driver, "#messagestack div.error, #messagestack div.confirmation")
        return shown.get_attribute("class"), shown.text

    kind, text = submit(old, WEAK)
    assert "error" in kind and policy_message(WEAK) in text, (kind, text)
    assert imap_login(edge, USER, old) and not imap_login(edge, USER, WEAK)

    kind, text = submit(old, NEW)
    assert "confirmation" in kind, (kind, text)
    # the new password logs in, the old one no longer does
    assert imap_login(edge, USER, NEW)
    assert not imap_login(edge, USER, old)
    # the session opened with the old password has been ended by the server
    closed = imap_closed_by_server(phone, timeout=30)
    assert closed is not None, "the IMAP session opened before the change is still open"
    # the other webmail session is over: even the address book (no IMAP) gives the login page
    ended = other.get("/?_task=addressbook")
    assert not logged_in(ended.body), (ended.status, ended.body[:500])
    assert 'id="rcmloginuser"' in other.get("/?_task=addressbook").body
    # this browser session goes on with the new password (Roundcube keeps it)
    webmail.open("?_task=mail&_mbox=INBOX")
    browser.present(driver, "#taskmenu a.logout")
    assert not webmail.login_form_shown()


@pytest.mark.control("WEB-17")
def test_a_rerun_keeps_the_users_password_and_only_an_explicit_reset_replaces_it(edge):
    old = edge.mail.password(USER)
    assert imap_login(edge, USER, NEW), "the password changed in the browser (test before) does not log in"
    said = converse(edge, RESET, edge.mail.password(RESET), RESET_NEW)
    done = False
    try:
        assert said[-1].startswith("200 "), said
        assert imap_login(edge, RESET, RESET_NEW)
        # accounts.yml (the dovecot role's password file, rewritten from the inventory: what site.yml
        # runs too), with the administrator's reset of RESET only
        run = run_site(edge.mail.name, {"mail_password_resets": [RESET]}, "all", playbook="playbooks/accounts.yml")
        assert run.returncode == 0, run.stdout[-3000:]
        assert changed_counts(run.stdout).get(edge.mail.name, 0) >= 1  # the reset
        # RESET has the inventory's password again, its own no more
        assert imap_login(edge, RESET, edge.mail.password(RESET)) and not imap_login(edge, RESET, RESET_NEW)
        listed = own_file(edge)
        assert f"{USER}:" in listed and f"{RESET}:" not in listed
        # USER's own password is kept (RESET's logins come first: the next file's test reads
        # Dovecot's log of RESET's logins from a second before it starts)
        assert imap_login(edge, USER, NEW) and not imap_login(edge, USER, old)
        done = True
    finally:
        # the tests after this file log in as RESET with the inventory's password, whatever happened here
        if not done and not imap_login(edge, RESET, edge.mail.password(RESET)):
            converse(edge, RESET, RESET_NEW, edge.mail.password(RESET))
    # a second verify starts from the inventory's password (the file keeps USER with that one)
    said = converse(edge, USER, NEW, old)
    assert said[-1].startswith("200 ") and imap_login(edge, USER, old), said
