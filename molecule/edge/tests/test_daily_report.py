"""The daily report to the postmaster (issue #21, MON-06): roles/metrics' mail-report.

Our host mails it through its own Postfix; the edge scenario sends it to USER (group_vars/
edge_mail: the postmaster's mailbox is the one the browser tests read). Each section must
hold this host's real values, set up by the test where the lab has none of its own:
  - traffic: one message sent to our port 25 now; pflogsumm's totals count it;
  - backups: the edge lab has no backup host, so the test writes a status as the backup
    client writes it (one repository, a backup and a check at known times) and removes it;
  - signatures: what clamd's own VERSION answer says (the lab's local database has no version);
  - certificates: the host certificate's notAfter, on every listening TLS port;
  - bans: an address banned now in one of the host's jails (fail2ban-client banip),
    forgotten afterwards.
The report for `--day today` is run as root, as the unit runs it (the unit reports
yesterday, when this container did not exist). Read over IMAPS.
"""

from __future__ import annotations

import email
import re
import time
import uuid

import pytest

from tests.helpers.fail2ban import forget, jails
from tests.helpers.mailclient import imap_wait_for, make_message, smtp_send

USER = "hoatt@gialai.gov.vn"
STATUS = "/var/lib/mail-backup/status"
BANNED = "203.0.113.77"
MARK = "mail-report"  # make_msgid("mail-report")


def section(body: str, number: int) -> str:
    found = re.search(rf"^== {number}\. .*?==\n(.*?)(?=^== |\Z)", body, re.M | re.S)
    assert found, f"section {number} missing:\n{body}"
    return found.group(1)


@pytest.mark.control("MON-06")
def test_the_daily_report_reaches_the_postmaster_with_this_hosts_values(edge):
    host = edge.mail.host
    assert host.service("mail-report.timer").is_enabled
    assert not host.file(STATUS).exists, "the edge lab has no backup client: the test's status would replace one"
    before = len(imap_wait_for(edge.mail.target, USER, edge.mail.password(USER), MARK, expect=0, timeout=0))
    jail = jails(host)[0]
    now = int(time.time())
    try:
        host.run(f"install -d -m 0700 {STATUS}")
        host.run(f"echo primary > {STATUS}/repositories; echo {now - 3600} > {STATUS}/primary.backup-ok; "
                 f"echo {now - 7200} > {STATUS}/primary.check-ok")
        banned = host.run(f"fail2ban-client set {jail} banip {BANNED}")
        assert banned.rc == 0, banned.stderr
        token = uuid.uuid4().hex[:8]
        # a sender domain with no DMARC record (the partner's own would refuse mail not from its server)
        msg = make_message("someone@evil.example", [USER], f"traffic for the report {token}")
        assert smtp_send(edge.mail.target, msg, port=25, sender="someone@evil.example") == {}
        assert imap_wait_for(edge.mail.target, USER, edge.mail.password(USER), msg["Message-ID"])

        sent = host.run("/usr/local/sbin/mail-report --day today")
        assert sent.rc == 0, sent.stderr
        got = imap_wait_for(edge.mail.target, USER, edge.mail.password(USER), MARK, expect=before + 1, timeout=120)
        assert len(got) == before + 1
    finally:
        host.run(f"rm -rf {STATUS}")
        forget(host, BANNED)
    report = email.message_from_bytes(got[-1])
    assert report["Auto-Submitted"] == "auto-generated"
    assert "Báo cáo hằng ngày / Daily report" in str(email.header.make_header(email.header.decode_header(report["Subject"])))
    # the lines as mailed (IMAP gives them with CRLF)
    body = report.get_payload(decode=True).decode(report.get_content_charset() or "utf-8").replace("\r\n", "\n")
    for heading in ("1. Lưu lượng thư (pflogsumm) / Mail traffic (pflogsumm)", "2. Sao lưu / Backups",
                    "3. Chữ ký ClamAV / ClamAV signatures", "4. Chứng chỉ TLS / TLS certificates",
                    "5. Fail2ban: lệnh cấm trong ngày / bans of the day"):
        assert f"== {heading} ==" in body, body

    traffic = section(body, 1)
    received = re.search(r"^\s*(\d+)\s+received", traffic, re.M)
    assert received and int(received.group(1)) >= 1, traffic

    def local(stamp):
        return host.run(f"date -d @{stamp} '+%Y-%m-%d %H:%M'").stdout.strip()

    backups = section(body, 2)
    assert f"primary: sao lưu tốt gần nhất / last good backup {local(now - 3600)}" in backups, backups
    assert f"last passed check {local(now - 7200)}" in backups and "passed" in backups, backups

    # clamd's own answer decides what the section must say (the lab's local signatures carry no version)
    version = re.search(r"ClamAV [^/\s]+/(\d+)/", host.run("clamdscan --version").stdout)
    if version:
        assert f"Phiên bản / version {version.group(1)}," in section(body, 3), section(body, 3)
    else:
        assert "clamd answers, but its signature database carries no version or date" in section(body, 3)

    not_after = host.run("openssl x509 -noout -enddate -in /etc/ssl/mail/fullchain.pem").stdout.split("=", 1)[1]
    expiry = host.run(f"date -d {not_after.strip()!r} '+%Y-%m-%d %H:%M'").stdout.strip()
    certificates = section(body, 4)
    for port in (25, 465, 587, 993, 443):
        assert f"cổng / port {port}: hết hạn / expires {expiry}" in certificates, certificates

    assert re.search(rf"^{re.escape(jail)}: \d+ — .*{re.escape(BANNED)} \(\d\d:\d\d\)", section(body, 5), re.M), \
        section(body, 5)
