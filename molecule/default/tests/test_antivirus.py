"""R4 as an outside client sees it: no virus gets through, no mail is lost.

Infected mail is refused at SMTP time (550 5.7.1) on every port, clean mail is
delivered marked as scanned, and while clamd or clamav-milter is down mail is
deferred (4xx) and delivered exactly once when the sender retries.
"""

from __future__ import annotations

import io
import os
import re
import smtplib
import struct
import time
import uuid
import zipfile
import zlib

import pytest

from tests.audit.test_antivirus import (  # noqa: F401  (collected here: the read-only check on this scenario's hosts)
    test_services_run_and_restart_when_they_die)
from tests.helpers.lab import journal_after, journal_mark, run_site, wait_until
from tests.helpers.mailclient import imap_wait_for, make_message, smtp_send

OUTSIDE = "sender@partner.example"
RCPT = "hoatt@gialai.gov.vn"
USER = "locnv@gialai.gov.vn"
SIGNATURE = "Lab.Eicar-Test-"  # inventories/lab/files/clamav/lab-eicar.{hdb,ndb}


def eicar() -> bytes:
    """The EICAR test file, assembled here so that scanners leave this source alone."""
    return ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode()


def zipped(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buf.getvalue()


def _zipcrypto_keys(password: bytes):
    """PKWARE traditional encryption (APPNOTE 6.1): the key state and a byte encrypter."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc(value: int, byte: int) -> int:
        return zlib.crc32(bytes([byte]), value ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def update(byte: int) -> None:
        keys[0] = crc(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc(keys[2], keys[1] >> 24)

    def encrypt(data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            temp = (keys[2] | 2) & 0xFFFF
            out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
            update(byte)
        return bytes(out)

    for byte in password:
        update(byte)
    return encrypt


def encrypted_zip(name: str, data: bytes, password: bytes) -> bytes:
    """A real password-protected zip (ZipCrypto, stored), as `zip -P` writes it; Python's zipfile reads
    but cannot write one."""
    crc32 = zlib.crc32(data) & 0xFFFFFFFF
    header = os.urandom(11) + bytes([crc32 >> 24])  # the last byte lets unzip check the password
    body = _zipcrypto_keys(password)(header + data)
    fields = struct.pack("<HHHHHIII", 20, 0x0001, 0, 0, 0x21, crc32, len(body), len(data))  # encrypted, stored
    local = b"PK\x03\x04" + fields + struct.pack("<HH", len(name), 0) + name.encode()
    central = (b"PK\x01\x02" + struct.pack("<H", 20) + fields + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, 0)
               + name.encode())
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central), len(local) + len(body), 0)
    return local + body + central + end


def send(mail, msg, **kw) -> tuple[int, str]:
    """SMTP result as (code, text): 250 when accepted, else the refusal."""
    try:
        refused = smtp_send(mail.target, msg, **kw)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        return code, text.decode(errors="replace")
    except smtplib.SMTPResponseException as exc:
        return exc.smtp_code, exc.smtp_error.decode(errors="replace")
    assert refused == {}, refused
    return 250, ""


def in_maildir(mail, message_id: str) -> list[str]:
    found = mail.host.run(
        f"find /var/vmail -type f \\( -path '*/new/*' -o -path '*/cur/*' \\) -exec grep -l -F '{message_id}' {{}} +"
    )
    return found.stdout.split()


def in_queue(message_id: str) -> str:
    """A shell test: some Postfix queue file holds message_id (a copy accepted, not yet delivered)."""
    queues = " ".join(f"/var/spool/postfix/{q}" for q in ("incoming", "active", "deferred"))
    return f"grep -rqaF '{message_id}' {queues}"


def wait_clamd(mail):
    assert mail.host.run("clamdscan --ping 60:1").rc == 0


def wait_milter(mail):
    assert mail.host.run("timeout 30 sh -c 'until ss -ltn | grep -q 127.0.0.1:7357; do sleep 0.5; done'").rc == 0


@pytest.mark.control("AV-01")
@pytest.mark.parametrize("kind", ["attachment", "zip", "inline-base64"])
def test_infected_mail_is_refused_with_the_signature_name(mail, kind, evidence):
    msg = make_message(OUTSIDE, [RCPT], f"EICAR {kind}")
    if kind == "attachment":
        msg.add_attachment(eicar(), maintype="application", subtype="octet-stream", filename="eicar.com")
    elif kind == "zip":
        msg.add_attachment(zipped("eicar.com", eicar()), maintype="application", subtype="zip",
                           filename="baocao.zip")
    else:
        msg.set_content(eicar().decode(), cte="base64")
    mark = journal_mark(mail.host)
    code, text = send(mail, msg, port=25)
    assert code == 550 and text.startswith("5.7.1") and SIGNATURE in text, (code, text)
    evidence(f"EICAR {kind} on 25: {code} {text}")
    assert in_maildir(mail, msg["Message-ID"]) == []
    # the milter's line reaches the journal a moment after its reply reached us: wait for it (bounded)
    log = journal_after(mail.host, mark, msg["Message-ID"], unit="clamav-milter")
    lines = [line for line in log.splitlines() if msg["Message-ID"] in line]
    assert lines and all(f"infected by {SIGNATURE}" in line for line in lines), lines


@pytest.mark.control("AV-01")
def test_submission_scans_outgoing_mail_too(mail):
    msg = make_message(USER, [RCPT, "partner@elsewhere.example"], "EICAR outbound")
    msg.add_attachment(eicar(), maintype="application", subtype="octet-stream", filename="eicar.com")
    code, text = send(mail, msg, port=587, starttls=True, login=(USER, mail.lab.password(USER)))
    assert code == 550 and text.startswith("5.7.1") and SIGNATURE in text, (code, text)
    assert in_maildir(mail, msg["Message-ID"]) == []


@pytest.mark.control("AV-02")
def test_archive_too_deep_to_scan_is_refused(mail):
    data = b"bao cao sach\n"
    for depth in range(25):  # deeper than clamav_max_recursion (17)
        data = zipped(f"lop{depth}.zip" if depth else "baocao.txt", data)
    msg = make_message(OUTSIDE, [RCPT], "archive too deep")
    msg.add_attachment(data, maintype="application", subtype="zip", filename="baocao.zip")
    code, text = send(mail, msg, port=25)
    assert code == 550 and "Heuristics.Limits.Exceeded" in text, (code, text)
    assert in_maildir(mail, msg["Message-ID"]) == []


@pytest.mark.control("AV-06")
def test_an_encrypted_archive_is_refused_and_the_same_archive_unencrypted_delivered(mail, evidence):
    name, content, password = "baocao.txt", "Báo cáo quý IV — số liệu sạch\n".encode() * 50, b"matkhau-2026"
    locked = encrypted_zip(name, content, password)
    with zipfile.ZipFile(io.BytesIO(locked)) as archive:  # a real encrypted zip: opens with the password only
        assert archive.infolist()[0].flag_bits & 0x1 and archive.read(name, pwd=password) == content
        with pytest.raises(RuntimeError, match="password required"):
            archive.read(name)
    msg = make_message(OUTSIDE, [RCPT], "encrypted zip")
    msg.add_attachment(locked, maintype="application", subtype="zip", filename="baocao-matkhau.zip")
    code, text = send(mail, msg, port=25)
    evidence(f"encrypted zip on 25: {code} {text}")
    assert code == 550 and text.startswith("5.7.1") and "Heuristics.Encrypted.Zip" in text, (code, text)
    assert in_maildir(mail, msg["Message-ID"]) == []
    plain = make_message(OUTSIDE, [RCPT], "plain zip")
    plain.add_attachment(zipped(name, content), maintype="application", subtype="zip", filename="baocao.zip")
    assert send(mail, plain, port=25) == (250, "")
    assert len(imap_wait_for(mail.target, RCPT, mail.lab.password(RCPT), plain["Message-ID"])) == 1


@pytest.mark.control("AV-03")
def test_clean_large_attachment_is_delivered_and_marked_scanned(mail):
    msg = make_message(OUTSIDE, [RCPT], "10 MB clean", attachment=os.urandom(10 * 1024 * 1024),
                       attachment_name="sach.bin")
    assert send(mail, msg, port=25) == (250, "")
    got = imap_wait_for(mail.target, RCPT, mail.lab.password(RCPT), msg["Message-ID"], timeout=120)
    assert len(got) == 1
    head = got[0].split(b"\r\n\r\n", 1)[0]
    assert b"\r\nX-Virus-Scanned: clamav-milter " in head
    assert b"\r\nX-Virus-Status: Clean" in head


@pytest.mark.exclusive
@pytest.mark.control("AV-04")
@pytest.mark.parametrize("down", ["clamd", "milter"])
def test_mail_waits_while_the_scanner_is_down_and_arrives_once(mail, down, evidence):
    units = "clamav-daemon.socket clamav-daemon.service" if down == "clamd" else "clamav-milter.service"
    msg = make_message(OUTSIDE, [RCPT], f"while {down} is down")
    assert mail.host.run(f"systemctl stop {units}").rc == 0
    try:
        code, text = send(mail, msg, port=25)
        assert code == 451 and text.startswith("4.7.1"), (code, text)
        evidence(f"{down} down: {code} {text}")
    finally:
        assert mail.host.run(f"systemctl start {units}").rc == 0
        wait_clamd(mail)
        wait_milter(mail)
    # The sender retries. clamav-milter re-probes a clamd it found dead once a
    # minute; until then every attempt is deferred again, none is lost or passed.
    deadline = time.monotonic() + 150
    while (result := send(mail, msg, port=25))[0] != 250 and time.monotonic() < deadline:
        assert result[0] == 451, result
        assert in_maildir(mail, msg["Message-ID"]) == []
        time.sleep(5)
    assert result == (250, ""), result
    assert len(imap_wait_for(mail.target, RCPT, mail.lab.password(RCPT), msg["Message-ID"])) == 1
    # Exactly once: no other copy is on its way (none in any Postfix queue; the delivered
    # one leaves the active queue a moment after it is in the mailbox), and one in the mailbox.
    wait_until(mail.host, f"! {in_queue(msg['Message-ID'])}", seconds=60,
               what=f"a copy of {msg['Message-ID']} still in the Postfix queue")
    assert len(in_maildir(mail, msg["Message-ID"])) == 1


@pytest.mark.exclusive
@pytest.mark.control("AV-07")
def test_a_scan_that_outlasts_the_milter_is_deferred_never_refused(mail, evidence):
    host, conf = mail.host, "/etc/clamav/clamav-milter.conf"
    read_timeout = int(re.search(r"^ReadTimeout (\d+)$", host.file(conf).content_string, re.M)[1])
    max_scan_time = int(re.search(r"^MaxScanTime (\d+)$", host.file("/etc/clamav/clamd.conf").content_string, re.M)[1])
    # the milter gives up (4xx) before clamd's own limit could call a clean message Limits.Exceeded (550)
    assert 0 < read_timeout * 1000 < max_scan_time, (read_timeout, max_scan_time)
    # Load, made certain: clamd is frozen (SIGSTOP) while the message is scanned, and the milter waits
    # 3 s instead of its deployed ReadTimeout, so the test does not wait minutes.
    clamd = host.run("systemctl show -p MainPID --value clamav-daemon").stdout.strip()
    assert clamd not in ("", "0")
    assert host.run(f"cp -p {conf} {conf}.test && sed -i 's/^ReadTimeout .*/ReadTimeout 3/' {conf} "
                    "&& systemctl restart clamav-milter").rc == 0
    msg = make_message(OUTSIDE, [RCPT], "scan outlasts the milter")
    try:
        wait_milter(mail)
        assert host.run(f"kill -STOP {clamd}").rc == 0
        code, text = send(mail, msg, port=25)
    finally:
        host.run(f"kill -CONT {clamd}")
        assert host.run(f"mv {conf}.test {conf} && systemctl restart clamav-milter").rc == 0
        wait_clamd(mail)
        wait_milter(mail)
    evidence(f"clamd frozen past the milter's ReadTimeout: {code} {text}")
    assert code == 451 and text.startswith("4.7.1"), (code, text)
    assert in_maildir(mail, msg["Message-ID"]) == []
    deadline = time.monotonic() + 90  # the sender retries: delivered once
    while (result := send(mail, msg, port=25))[0] != 250 and time.monotonic() < deadline:
        assert result[0] == 451, result
        time.sleep(5)
    assert result == (250, ""), result
    assert len(imap_wait_for(mail.target, RCPT, mail.lab.password(RCPT), msg["Message-ID"])) == 1


@pytest.mark.exclusive
@pytest.mark.control("AV-05")
def test_killed_clamd_comes_back_and_says_so(mail):
    before = mail.host.run("systemctl show -p MainPID --value clamav-daemon").stdout.strip()
    assert before not in ("", "0")
    mark = journal_mark(mail.host)
    assert mail.host.run(f"kill -KILL {before}").rc == 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        after = mail.host.run("systemctl show -p MainPID --value clamav-daemon").stdout.strip()
        if after not in ("", "0", before):
            break
        time.sleep(1)
    assert after not in ("", "0", before)
    wait_clamd(mail)
    # this kill's lines (not an earlier run's), waited for: journald stores them a moment later
    killed, restarted = "Main process exited, code=killed, status=9/KILL", "Scheduled restart job"
    journal = journal_after(mail.host, mark, killed, restarted, unit="clamav-daemon")
    assert killed in journal, journal[-2000:]
    assert restarted in journal, journal[-2000:]


@pytest.mark.control("AV-05")
def test_signature_age_is_checked(mail):
    fresh = mail.host.run("/usr/local/sbin/clamav-signature-age")
    assert fresh.rc == 0 and "lab-eicar.hdb" in fresh.stdout, fresh.stdout + fresh.stderr
    stale = mail.host.run("/usr/local/sbin/clamav-signature-age --max-age-days 0")
    assert stale.rc == 1 and "STALE" in stale.stderr
    assert mail.host.run("systemctl start clamav-signature-age.service").rc == 0
    assert mail.host.service("clamav-signature-age.timer").is_enabled


@pytest.mark.exclusive
@pytest.mark.control("CFG-01")
def test_clamd_rejects_unknown_setting_and_keeps_running(mail):
    before = mail.host.file("/etc/clamav/clamd.conf").sha256sum
    name = f"NoSuchOption{uuid.uuid4().hex[:6]}"
    result = run_site(mail.name, {"clamav_clamd_conf_extra": {name: "yes"}}, "clamav_config")
    out = result.stdout + result.stderr
    assert result.returncode != 0, out[-2000:]
    assert f"Unknown option {name}" in out, out[-2000:]
    assert mail.host.file("/etc/clamav/clamd.conf").sha256sum == before
    assert mail.host.service("clamav-daemon").is_running
    wait_clamd(mail)
