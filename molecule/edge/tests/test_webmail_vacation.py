"""Out-of-office set in the webmail, in a real browser (SIEVE-06, issue #19).

A civil servant opens Settings -> Out of Office in Roundcube (Debian's Chromium through
Selenium, TLS verified against the lab CA: tests/helpers/browser.py), writes a reply and
saves it. Roundcube's managesieve plugin stores it over ManageSieve (STARTTLS on 4190);
the script is then visible there. A colleague at the partner agency writes twice: the
first message gets exactly one reply, delivered to the partner's mailbox; the second,
within the period, gets none (Dovecot logs Pigeonhole's decision).

USER is an active lab account no other edge module logs in with (test_webmail_penalty.py
logs it in to the webmail just before); SENDER is the partner's account. The reply is
removed afterwards, over ManageSieve.
"""

from __future__ import annotations

import email
import uuid

import pytest
from selenium.webdriver.support.ui import Select

from tests.helpers import browser
from tests.helpers.lab import journal_lines, journal_mark
from tests.helpers.mailclient import make_message, smtp_send
from tests.helpers.managesieve import login as sieve_login, one_vacation_reply, vacation_replies

USER = "luutru@gialai.gov.vn"
SENDER = "nhan@partner.example"
TOKEN = uuid.uuid4().hex[:10]
REPLY_SUBJECT = f"Vắng mặt / Out of office {TOKEN}"
REPLY_BODY = "Tôi nghỉ phép đến hết thứ Sáu. Việc gấp xin liên hệ Văn phòng.\nI am on leave until Friday."


@pytest.fixture(scope="module")
def driver(edge):
    target = edge.mail.target
    with browser.chromium({target.hostname: target.address}, target.cafile) as drv:
        yield drv


def _ready(driver) -> None:
    browser.until(driver, lambda d: d.execute_script("return !!(window.rcmail && rcmail.loaded && !rcmail.busy)"),
                  "the page ready for a click")


def _open(driver, url: str) -> None:
    driver.get(url)
    assert not browser.tls_error_shown(driver), f"certificate refused at {url}"
    _ready(driver)


def _send(edge, subject: str) -> email.message.Message:
    """SENDER writes to USER through the partner's submission (then the partner's MX to ours)."""
    msg = make_message(SENDER, [USER], subject, "Kính gửi chị, đề nghị phản hồi công văn trước thứ Năm.")
    assert smtp_send(edge.partner.target, msg, port=587, starttls=True,
                     login=(SENDER, edge.partner.password(SENDER))) == {}
    return msg


@pytest.mark.control("SIEVE-06")
def test_an_out_of_office_reply_set_in_the_webmail_answers_a_sender_once(edge, driver, evidence):
    url = f"https://{edge.mail.hostname}/"
    # Log in as the user does.
    _open(driver, url)
    browser.visible(driver, "#rcmloginuser").send_keys(USER)
    browser.visible(driver, "#rcmloginpwd").send_keys(edge.mail.password(USER))
    browser.clickable(driver, "#rcmloginsubmit").click()
    browser.present(driver, "#messagelist")  # the inbox (empty: the list has no height)
    _ready(driver)

    # Settings -> Out of Office: subject, message, status on; Save.
    _open(driver, url + "?_task=settings&_action=plugin.managesieve-vacation")
    subject = browser.visible(driver, "#vacation_subject")
    subject.clear()
    subject.send_keys(REPLY_SUBJECT)
    body = browser.visible(driver, "#vacation_reason")
    body.clear()
    body.send_keys(REPLY_BODY)
    Select(browser.present(driver, "#vacation_status")).select_by_value("on")
    browser.clickable(driver, ".formbuttons .submit").click()
    shown = browser.visible(driver, "#messagestack div.confirmation, #messagestack div.error, "
                                    "#messagestack div.warning")
    saved = shown.text
    assert "confirmation" in (shown.get_attribute("class") or ""), saved
    try:
        # Over ManageSieve (as the plugin wrote it): an active script with the reply.
        with sieve_login(edge.mail.target, USER, edge.mail.password(USER)) as sieve:
            scripts = sieve.listscripts()
            active = [name for name, on in scripts.items() if on]
            assert len(active) == 1, scripts
            script = sieve.getscript(active[0])
        assert "vacation" in script and REPLY_SUBJECT in script and "Tôi nghỉ phép" in script, script

        # The partner's colleague writes: exactly one reply reaches them.
        since = journal_mark(edge.mail.host)
        first = _send(edge, f"Công văn số 12/{TOKEN}: đề nghị phản hồi")
        lines = journal_lines(edge.mail.host, since, first["Message-ID"], "vacation", seconds=120)
        assert any(f"sent vacation response to <{SENDER}>" in line for line in lines), lines
        reply = one_vacation_reply(edge.partner.target, SENDER, edge.partner.password(SENDER), TOKEN,
                                   subject=REPLY_SUBJECT, away=USER, in_reply_to=first["Message-ID"], seconds=120)

        # Again within the period: Pigeonhole decides not to answer, and no second reply comes.
        second = _send(edge, f"Nhắc lại công văn số 12/{TOKEN}")
        lines = journal_lines(edge.mail.host, since, second["Message-ID"], "vacation", seconds=120)
        decided = [line for line in lines if f"discarded duplicate vacation response to <{SENDER}>" in line]
        assert decided, lines
        lines = decided
        assert len(vacation_replies(edge.partner.target, SENDER, edge.partner.password(SENDER), TOKEN)) == 1
        assert TOKEN not in edge.mail.host.run("postqueue -j").stdout  # nothing waiting to leave either
    finally:
        with sieve_login(edge.mail.target, USER, edge.mail.password(USER)) as sieve:
            sieve.setactive("")
            for name in sieve.listscripts():
                sieve.deletescript(name)
    evidence(f"{USER} saved an out-of-office reply in the webmail ('{saved}'); over ManageSieve the active script "
             f"'{active[0]}' holds vacation :subject '{REPLY_SUBJECT}'; two mails from {SENDER} (partner.example): "
             f"one reply in their inbox (In-Reply-To the first, Auto-Submitted: {reply['Auto-Submitted']}), the "
             f"second: {lines[-1].split(': ', 1)[-1]}")
