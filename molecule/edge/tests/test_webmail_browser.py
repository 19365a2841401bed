"""Webmail in a real browser (issue #19): Debian's Chromium drives https://mail.<domain>.

The browser trusts the lab CA and nothing else (tests/helpers/browser.py): the pages
load over verified TLS, under the host's real name. Each step asserts what the page
shows a civil servant, and what left the page is checked where it lands (IMAPS, the
mail log). The tests share one browser and run in this order; each logs in again
when the one before left it logged out. Controls: WEBUI-01..07
(tests/conformance/controls/webmail_browser.yml).
"""

from __future__ import annotations

import email
import email.policy
import pathlib
import time
import uuid

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from tests.helpers import browser
from tests.helpers.lab import journal_after, journal_mark
from tests.helpers.mailclient import IMAPS, imap_wait_for, make_message, smtp_send

ROOT = pathlib.Path(__file__).resolve().parents[3]
SCREENSHOT = ROOT / "reports" / "molecule" / "edge-webmail-inbox.png"

# The browser's user. Not vanphong@: test_webmail.py's brute-force test fails its logins just
# before, and Roundcube then refuses that user's logins for a minute (login_rate_limit, per
# user). postmaster@ sends nothing else in this scenario, so its hourly submission limit (3
# messages) has room for the two messages sent here.
USER = "postmaster@gialai.gov.vn"
OTHER = "vanphong@gialai.gov.vn"  # receives what webmail sends
PARTNER = "postmaster@partner.example"  # another agency's mail system: sends the first message

SUBJECT = "Công văn số {token}: Kế hoạch chuyển đổi số năm 2027 — đề nghị góp ý"
BODY = ("Kính gửi Văn phòng UBND tỉnh,\n"
        "Đề nghị quý cơ quan góp ý dự thảo trước ngày 15/12. Trân trọng cảm ơn.\n"
        "Ký tên: Quản trị hệ thống thư điện tử")


def eicar() -> bytes:
    """The EICAR test file, assembled here so that scanners leave this source alone."""
    return ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode()


def _token() -> str:
    return uuid.uuid4().hex[:10]


# ---------------------------------------------------------------- the site and the browser
@pytest.fixture(scope="module")
def driver(edge):
    target = edge.mail.target
    with browser.chromium({target.hostname: target.address}, target.cafile) as drv:
        yield drv


@pytest.fixture(scope="module")
def webmail(edge, driver):
    return Webmail(driver, f"https://{edge.mail.hostname}/")


@pytest.fixture(scope="module")
def received(edge):
    """A message from another agency to USER over SMTP (the partner's submission, then its MX to ours),
    delivered before the browser looks."""
    token = _token()
    subject = SUBJECT.format(token=token)
    msg = make_message(PARTNER, [USER], subject, BODY)
    assert smtp_send(edge.partner.target, msg, port=587, starttls=True,
                     login=(PARTNER, edge.partner.password(PARTNER))) == {}
    assert len(imap_wait_for(edge.mail.target, USER, edge.mail.password(USER), msg["Message-ID"], timeout=120)) == 1
    return subject


class Webmail:
    """Roundcube (Elastic skin) as a user sees it: what to click and what to read."""

    LOGIN_USER, LOGIN_PASSWORD, LOGIN_SUBMIT = "#rcmloginuser", "#rcmloginpwd", "#rcmloginsubmit"

    def __init__(self, driver, url: str):
        self.driver, self.url = driver, url

    def open(self, query: str = "") -> None:
        self.driver.get(self.url + query)
        assert not browser.tls_error_shown(self.driver), f"certificate refused at {self.url}"
        self.ready()

    def ready(self) -> None:
        """Wait until Roundcube's page script has started and is not busy (loading the list, say):
        until then it ignores a click on its buttons."""
        browser.until(self.driver,
                      lambda d: d.execute_script("return !!(window.rcmail && rcmail.loaded && !rcmail.busy)"),
                      "the page ready for a click")

    def login_form_shown(self) -> bool:
        return bool([e for e in self.driver.find_elements(By.CSS_SELECTOR, self.LOGIN_USER) if e.is_displayed()])

    def mail_shown(self) -> bool:
        return bool(self.driver.find_elements(By.CSS_SELECTOR, "#messagelist"))

    def submit_login(self, user: str, password: str) -> None:
        self.open()
        field = browser.visible(self.driver, self.LOGIN_USER)
        field.clear()
        field.send_keys(user)
        secret = browser.visible(self.driver, self.LOGIN_PASSWORD)
        secret.clear()
        secret.send_keys(password)
        browser.clickable(self.driver, self.LOGIN_SUBMIT).click()

    def login(self, user: str, password: str) -> None:
        self.open()
        if self.mail_shown():
            return
        self.submit_login(user, password)
        browser.visible(self.driver, "#messagelist")
        self.ready()
        self.record_messages()

    def record_messages(self) -> None:
        """Keep every message Roundcube shows (its `message` event) in the tab's sessionStorage.

        The page shows "sent" for half a second before it leaves for the list; a record
        read after that is what the user saw, without racing the redirect."""
        self.driver.execute_script(
            "if (window.rcmail && !window.__shownRecorded) { window.__shownRecorded = true;"
            " rcmail.addEventListener('message', function (p) {"
            "  var shown = JSON.parse(sessionStorage.getItem('shown') || '[]');"
            "  shown.push([p.type, $('<div>').html(p.message).text()]);"
            "  sessionStorage.setItem('shown', JSON.stringify(shown)); }); }")

    def shown(self) -> list[list[str]]:
        return self.driver.execute_script("return JSON.parse(sessionStorage.getItem('shown') || '[]')")

    def forget_shown(self) -> None:
        self.driver.execute_script("sessionStorage.removeItem('shown')")

    def row(self, text: str):
        """The message list's row that shows `text`."""
        def find(drv):
            for row in drv.find_elements(By.CSS_SELECTOR, "#messagelist tbody tr"):
                if text in row.text:
                    return row
            return False
        return browser.until(self.driver, find, f"a message {text!r} in the list")

    def error_shown(self) -> str:
        """The text of the first error or warning the page shows (waits for it; a failed login is a warning)."""
        return browser.visible(self.driver, "#messagestack div.error, #messagestack div.warning").text

    def compose(self, to: str, subject: str, body: str, attachment: pathlib.Path) -> None:
        """Write a message and attach a file, as a user does; does not send it."""
        self.open("?_task=mail&_mbox=INBOX")
        browser.clickable(self.driver, "#taskmenu a.compose").click()
        subject_field = browser.visible(self.driver, "#compose-subject")
        self.ready()
        self.record_messages()
        recipient = browser.visible(self.driver, "#compose_to ul.recipient-input input")
        recipient.send_keys(to + ", ")
        subject_field.send_keys(subject)
        browser.visible(self.driver, "#composebody").send_keys(body)
        # the file picker's input (the "Attach" button opens it); choosing a file uploads it
        browser.present(self.driver, "#uploadformInput").send_keys(str(attachment))

        def uploaded(drv):
            for item in drv.find_elements(By.CSS_SELECTOR, "#attachment-list li"):
                if attachment.name in item.text and "uploading" not in (item.get_attribute("class") or ""):
                    return item
            return False
        browser.until(self.driver, uploaded, f"attachment {attachment.name} uploaded")

    def send(self) -> None:
        self.forget_shown()
        browser.clickable(self.driver, "#layout-content .formbuttons .send").click()


def _imap_by_subject(edge, user: str, token: str) -> list[bytes]:
    """Every message in user's INBOX whose subject holds `token` (IMAPS, certificate verified)."""
    with IMAPS(edge.mail.target) as imap:
        imap.login(user, edge.mail.password(user))
        imap.select("INBOX", readonly=True)
        typ, data = imap.search(None, "SUBJECT", token)
        found = []
        if typ == "OK" and data and data[0]:
            for num in data[0].split():
                found.append(imap.fetch(num, "(BODY.PEEK[])")[1][0][1])
        imap.logout()
    return found


def _imap_wait_by_subject(edge, user: str, token: str, timeout: float = 120) -> list[bytes]:
    """Poll (bounded) until a message whose subject holds `token` is in user's INBOX."""
    deadline = time.monotonic() + timeout
    while True:
        found = _imap_by_subject(edge, user, token)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(1)


# ---------------------------------------------------------------- the tests
@pytest.mark.control("WEBUI-01", "WEBUI-02")
def test_a_user_logs_in_and_reads_a_message_sent_to_them_over_smtp(edge, webmail, received):
    webmail.login(USER, edge.mail.password(USER))
    row = webmail.row(received)
    assert received in row.text  # the Vietnamese subject, as sent, in the list

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert webmail.driver.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    ActionChains(webmail.driver).double_click(row).perform()  # open it
    browser.until(webmail.driver, lambda d: "_action=show" in d.current_url, "the message opened")
    body = browser.visible(webmail.driver, "#messagebody").text
    header = browser.visible(webmail.driver, "#message-header .subject").text
    assert received in header, header
    for line in BODY.splitlines():
        assert line in body, (line, body)


@pytest.mark.control("WEBUI-03")
def test_a_message_with_an_attachment_sent_from_webmail_arrives_intact(edge, webmail, tmp_path):
    webmail.login(USER, edge.mail.password(USER))
    token = _token()
    subject = f"Báo cáo quý IV gửi kèm {token}"
    attachment = tmp_path / f"Báo-cáo-quý-IV-{token}.txt"
    content = ("Tổng hợp số liệu quý IV — Sở Nội vụ\n" + uuid.uuid4().hex * 200 + "\n").encode()
    attachment.write_bytes(content)
    webmail.compose(OTHER, subject, "Kính gửi anh/chị, xin gửi kèm báo cáo.", attachment)
    webmail.send()
    browser.until(webmail.driver, lambda d: "_action=compose" not in d.current_url, "back to the list after sending")
    kinds = [kind for kind, _text in webmail.shown()]
    assert "confirmation" in kinds and "error" not in kinds, webmail.shown()

    got = _imap_wait_by_subject(edge, OTHER, token)
    assert len(got) == 1, f"{len(got)} messages with {token} in {OTHER}'s inbox"
    msg = email.message_from_bytes(got[0], policy=email.policy.default)
    assert msg["Subject"] == subject
    assert USER in msg["From"]
    assert "xin gửi kèm báo cáo" in msg.get_body(preferencelist=("plain",)).get_content()
    files = [(part.get_filename(), part.get_payload(decode=True)) for part in msg.iter_attachments()]
    assert files == [(attachment.name, content)], [(name, len(data or b"")) for name, data in files]


@pytest.mark.control("WEBUI-04")
def test_an_infected_attachment_is_refused_on_the_page_and_nothing_is_delivered(edge, webmail, tmp_path):
    webmail.login(USER, edge.mail.password(USER))
    token = _token()
    attachment = tmp_path / f"hoa-don-{token}.com"
    attachment.write_bytes(eicar())
    since = journal_mark(edge.mail.host)
    webmail.compose(OTHER, f"Hóa đơn {token}", "Xem tệp đính kèm.", attachment)
    webmail.send()
    error = webmail.error_shown()
    assert "550" in error and "5.7.1" in error, error  # Postfix's refusal, shown to the user
    assert "_action=compose" in webmail.driver.current_url  # the draft stays open, not "sent"
    refused = journal_after(edge.mail.host, since, "milter-reject", f"from=<{USER}>")
    lines = [line for line in refused.splitlines() if "milter-reject" in line and f"from=<{USER}>" in line]
    assert lines, refused[-2000:]
    # refused at the end of DATA: never queued, so nothing can arrive later
    assert _imap_by_subject(edge, OTHER, token) == []


@pytest.mark.control("WEBUI-05")
def test_an_identity_with_someone_elses_address_is_refused(edge, webmail):
    webmail.login(USER, edge.mail.password(USER))
    driver = webmail.driver
    webmail.open("?_task=settings&_action=identities")
    rows = browser.until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#identities-table tbody tr"),
                         "the list of identities")
    iid = rows[0].get_attribute("id").removeprefix("rcmrow")
    webmail.open(f"?_task=settings&_action=edit-identity&_iid={iid}&_framed=1")
    address = browser.present(driver, "input[name=_email]")
    assert address.get_attribute("value") == USER
    # the form: the address cannot be edited (identities_level 1 or 3)
    assert address.get_attribute("disabled") is not None or address.get_attribute("readonly") is not None, (
        "the identity form lets a user type any address")
    # the server: a forged form (the field enabled again, another address) does not change it
    driver.execute_script("var f = arguments[0]; f.disabled = false; f.readOnly = false; f.value = arguments[1];",
                          address, OTHER)
    browser.clickable(driver, ".formbuttons .submit").click()
    browser.until(driver, EC.staleness_of(address), "the saved form's answer")
    webmail.open("?_task=settings&_action=identities")
    listed = browser.visible(driver, "#identities-table").text
    assert OTHER not in listed and USER in listed, listed
    webmail.open("?_task=mail&_action=compose")
    senders = browser.present(driver, "#_from").get_attribute("textContent")
    assert OTHER not in senders and USER in senders, senders


@pytest.mark.control("WEBUI-06")
def test_after_logout_the_back_button_shows_no_mail(edge, webmail, received):
    webmail.login(USER, edge.mail.password(USER))
    webmail.row(received)  # the inbox with the message shown
    browser.clickable(webmail.driver, "#taskmenu a.logout").click()
    browser.until(webmail.driver, lambda _d: webmail.login_form_shown(), "the login page after logout")
    webmail.driver.back()
    browser.until(webmail.driver, lambda _d: webmail.login_form_shown(), "the login page after going back")
    assert received not in webmail.driver.page_source
    assert not webmail.mail_shown()


@pytest.mark.control("WEBUI-07")
def test_a_wrong_password_gives_an_error_and_no_working_session(edge, webmail, received):
    driver = webmail.driver
    driver.delete_all_cookies()
    webmail.submit_login(USER, edge.mail.password(USER) + "-sai")
    assert webmail.error_shown()  # "Không đăng nhập được" (login failed)
    assert webmail.login_form_shown() and not webmail.mail_shown()
    # whatever cookie the failed login left opens no mailbox
    webmail.open("?_task=mail&_mbox=INBOX")
    browser.until(driver, lambda _d: webmail.login_form_shown(), "the login page for the mailbox")
    assert not webmail.mail_shown() and received not in driver.page_source
