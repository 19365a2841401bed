"""Backups (R12): isolation, failure reporting, consistency under delivery, and a
disaster-recovery rebuild that proves nothing was lost.

The tests run in file order and share state (the seeded set, the snapshots).
"""

from __future__ import annotations

import base64
import hashlib
import imaplib
import json
import os
import pathlib
import re
import shlex
import smtplib
import subprocess
import threading
import time

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from passlib.hash import bcrypt

from conftest import BACKUP, ROOT, STORE, store_host
from tests.audit.test_host import never_started
from tests.helpers import dkim
from tests.helpers.lab import journal_after, journal_mark, podman, target_for
from tests.helpers.labdata import lab_mail
from tests.helpers.mail_password import change_password
from tests.helpers.managesieve import login as sieve_login
from tests.helpers.mailclient import IMAPS, SMTP, imap_wait_for, make_message, smtp_send, submission
from tests.helpers.webmail import Browser, contact_shown, request_token
from tests.helpers.webmail import add_contact as webmail_add_contact
from tests.helpers.webmail import contacts as webmail_contacts
from tests.helpers.webmail import identities as webmail_identities
from tests.helpers.webmail import post_form as webmail_post

USERS = ["locnv@gialai.gov.vn", "hoatt@gialai.gov.vn", "vanphong@gialai.gov.vn"]
POSTMASTER = "postmaster@gialai.gov.vn"
SUBUNIT = "luutru@gialai.gov.vn"  # the unit mailbox of VP-LT, a sub-unit of VP (lab: mail_agency_parents); quota 1M
SUBJECTS = ["Báo cáo tháng 11 — Ủy ban", "Giấy mời họp: Sở Nội vụ", "日本語 / русский / ελληνικά", "plain ascii"]
STATE: dict = {}


class _Text:
    """A command's result whose output is read as text even when the peer wrote bytes: the
    append-only server answers a stray ssh session with binary HTTP/2 frames, and a strict
    UTF-8 decode of those (testinfra's) failed BAK-02 once (0xfa at byte 20)."""

    def __init__(self, result):
        self.rc = result.rc
        self.stdout = result.stdout_bytes.decode("utf-8", "replace")
        self.stderr = result.stderr_bytes.decode("utf-8", "replace")
        self.succeeded = result.rc == 0
        self.failed = result.rc != 0


def sh(host, cmd: str):
    return _Text(host.run(cmd))


def inventory_dir() -> pathlib.Path:
    return pathlib.Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent


def playbook(name: str, *args: str, timeout: int = 1500, env: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               MAIL_IAC_ROOT=str(ROOT), **(env or {}))
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory_dir()),
         str(ROOT / "playbooks" / name), *args],
        capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)


def imap_inbox(target, lab, user, part: str = "BODY.PEEK[]") -> list[bytes]:
    """Every message's `part` in the user's INBOX, read over IMAPS (read-only)."""
    with IMAPS(target) as imap:
        imap.login(user, lab.password(user))
        imap.select("INBOX", readonly=True)
        _typ, data = imap.search(None, "ALL")
        found = [imap.fetch(num, f"({part})")[1][0][1] for num in data[0].split()]
        imap.logout()
    return found


def mailbox_digests(target, lab, users) -> dict[str, list[str]]:
    """Per user: sorted SHA-256 of every message (BODY.PEEK[]) in INBOX, read over IMAPS."""
    return {user: sorted(hashlib.sha256(raw).hexdigest() for raw in imap_inbox(target, lab, user)) for user in users}


# #17: the rebuild is compared beyond INBOX. A user's own folders (a hierarchy with
# Vietnamese names, as an office files its mail) and the special ones, filled over IMAP
# as a client does; the suspended and departed accounts, which cannot log in, keep
# receiving and are read on the host.
LOCKED = ["tamlt@gialai.gov.vn", "hungpv@gialai.gov.vn"]  # lab: suspended; departed within its retention
FOLDERS = {"Sent": 2, "Drafts": 1, "Lưu trữ": 1, "Lưu trữ/2026": 2}
FOLDER_USER = USERS[1]


def imap_utf7(name: str) -> str:
    """A mailbox name in IMAP's modified UTF-7 (RFC 3501 5.1.3), as a client sends it."""
    out, run = [], ""

    def flush():
        if run:
            out.append("&" + base64.b64encode(run.encode("utf-16-be")).decode().rstrip("=").replace("/", ",") + "-")

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            run = ""
            out.append("&-" if ch == "&" else ch)
        else:
            run += ch
    flush()
    return "".join(out)


def seed_folders(target, lab, user: str) -> None:
    """Create the FOLDERS and APPEND their messages over IMAPS."""
    with IMAPS(target) as imap:
        imap.login(user, lab.password(user))
        for folder, count in FOLDERS.items():
            name = f'"{imap_utf7(folder)}"'
            if folder not in ("Sent", "Drafts"):  # the special ones exist (auto = subscribe)
                typ, data = imap.create(name)
                assert typ == "OK" or b"ALREADYEXISTS" in b"".join(data), (folder, data)
            for i in range(count):
                msg = make_message(user, ["partner@example.org"], f"{folder} — thư {i}", body=f"Nội dung {folder} {i}\n")
                typ, data = imap.append(name, r"(\Seen)", None, msg.as_bytes())
                assert typ == "OK", (folder, data)
        imap.logout()


_LIST = re.compile(r'^\((?P<flags>[^)]*)\) (?:"[^"]*"|NIL) (?P<name>"(?:[^"\\]|\\.)*"|\S+)$')


def folder_digests(target, lab, users) -> dict[str, dict[str, list[str]]]:
    """Per user, per folder (every selectable one IMAP LISTs): sorted SHA-256 of every message, over IMAPS."""
    out = {}
    for user in users:
        out[user] = {}
        with IMAPS(target) as imap:
            imap.login(user, lab.password(user))
            _typ, listing = imap.list()
            for line in listing:
                m = _LIST.match(line.decode())
                assert m, line
                if re.search(r"\\(Noselect|NonExistent)", m["flags"], re.I):
                    continue
                name = m["name"] if m["name"].startswith('"') else f'"{m["name"]}"'
                typ, _data = imap.select(name, readonly=True)
                assert typ == "OK", (user, name)
                _typ, data = imap.search(None, "ALL")
                out[user][name.strip('"')] = sorted(
                    hashlib.sha256(imap.fetch(num, "(BODY.PEEK[])")[1][0][1]).hexdigest() for num in data[0].split())
            imap.logout()
    return out


# #17: a user's Sieve scripts (Pigeonhole: ~/sieve and the link ~/.dovecot.sieve to the active one),
# made over ManageSieve as Roundcube's managesieve plugin does: a filter, active, that files a
# subject's mail into a folder of its own, and an out-of-office script, not active.
SIEVE_FOLDER = "Thư lọc"
SIEVE_TOKEN = "[LOC-17]"
SIEVE_SCRIPTS = {
    "Lọc thư": 'require ["fileinto", "mailbox"];\n'
               f'if header :contains "subject" "{SIEVE_TOKEN}" {{ fileinto :create "{SIEVE_FOLDER}"; }}\n',
    "Vắng mặt": 'require ["vacation"];\nvacation :days 1 :subject "Vắng mặt" "Tôi đi công tác đến thứ Hai.";\n',
}
SIEVE_ACTIVE = "Lọc thư"


def sieve_state(target, lab, user: str) -> dict[str, tuple[bool, str]]:
    """{script: (active, text)} as ManageSieve lists them (LISTSCRIPTS, GETSCRIPT) to the user (line ends as LF)."""
    with sieve_login(target, user, lab.password(user)) as sieve:
        return {name: (active, sieve.getscript(name).replace("\r\n", "\n"))
                for name, active in sieve.listscripts().items()}


def delivered_to(target, lab, user: str, subject: str, timeout: float = 60) -> list[str]:
    """Send a message with `subject` to `user` and return the folders it was delivered to (polled over
    IMAPS, bounded, among INBOX and SIEVE_FOLDER, until it is in one of them)."""
    msg = make_message("partner@example.org", [user], subject, body="Thư theo quy tắc lọc\n")
    smtp_send(target, msg)
    deadline = time.monotonic() + timeout
    while True:
        found = []
        with IMAPS(target) as imap:
            imap.login(user, lab.password(user))
            for folder in ("INBOX", f'"{imap_utf7(SIEVE_FOLDER)}"'):
                if imap.select(folder, readonly=True)[0] != "OK":
                    continue
                _typ, data = imap.search(None, "HEADER", "Message-ID", msg["Message-ID"])
                if data and data[0]:
                    found.append(folder.strip('"'))
            imap.logout()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(1)


def seed_sieve(target, lab, user: str) -> dict[str, tuple[bool, str]]:
    """Upload SIEVE_SCRIPTS, activate SIEVE_ACTIVE, whose rule then files a message into SIEVE_FOLDER (made by
    the rule: the folder is in the backup). Returns what ManageSieve then lists."""
    with sieve_login(target, user, lab.password(user)) as sieve:
        for name, text in SIEVE_SCRIPTS.items():
            answer = sieve.putscript(name, text)
            assert answer.ok, (name, str(answer))
        answer = sieve.setactive(SIEVE_ACTIVE)
        assert answer.ok, str(answer)
    state = sieve_state(target, lab, user)
    assert state == {name: (name == SIEVE_ACTIVE, text) for name, text in SIEVE_SCRIPTS.items()}, state
    assert delivered_to(target, lab, user, f"Công văn {SIEVE_TOKEN} trước sao lưu") == [imap_utf7(SIEVE_FOLDER)]
    return state


def maildir_files(host, address: str) -> dict[str, str]:
    """{<folder dir>/<base name>: SHA-256} of every message file of a mailbox, every folder, read on the store."""
    user, domain = address.split("@")
    out = sh(host, f"cd /var/vmail/{domain}/{user}/Maildir && find . \\( -path '*/cur/*' -o -path '*/new/*' \\) -type f "
                   "-print0 | xargs -0r sha256sum").stdout
    files = {}
    for line in out.splitlines():
        digest, path = line.split(None, 1)
        parts = path.strip()[2:].split("/")  # cur/<name> (INBOX) or .<folder>/cur/<name>
        folder = parts[0] if len(parts) == 3 else "INBOX"
        files[f"{folder}/{parts[-1].split(':2,')[0]}"] = digest
    return files


def imap_login_refused(target, address: str, password: str) -> str:
    """The server's answer to a LOGIN with the right password, or '' when it let the user in."""
    with IMAPS(target) as imap:
        try:
            imap.login(address, password)
        except imaplib.IMAP4.error as err:
            return str(err)
        imap.logout()
    return ""


def imap_subjects(target, lab, user) -> list[str]:
    return [raw.decode(errors="replace") for raw in imap_inbox(target, lab, user, "BODY.PEEK[HEADER.FIELDS (SUBJECT)]")]


def wait_for_count(target, lab, want: dict[str, int], timeout: float = 120):
    deadline = time.monotonic() + timeout
    while True:
        have = {u: len(d) for u, d in mailbox_digests(target, lab, list(want)).items()}
        if all(have[u] >= n for u, n in want.items()) or time.monotonic() > deadline:
            return have
        time.sleep(2)


def lab_backup_password(repo: str) -> str:
    return yaml.safe_load((ROOT / "inventories/lab/group_vars/all/vault.yml").read_text())["vault_backup_passwords"][repo]


def inventory_password(user: str) -> str:
    """The account's password in the inventory (vault), which /etc/dovecot/users holds the hash of: the
    lab fixture's password is the one the user logs in with, which they may have changed (WEB-18)."""
    return yaml.safe_load((ROOT / "inventories/lab/group_vars/all/vault.yml").read_text())["vault_mail_passwords"][user]


def start_backup(host):
    return sh(host, "systemctl start mail-backup.service")


def restic_json(host, repo: str, args: str):
    result = sh(host, f"/usr/local/sbin/mail-restic {repo} {args} --json")
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


# Production's password scheme (molecule/backup/group_vars/mail_store: the dovecot role's default,
# BLF-CRYPT, bcrypt at cost 10) instead of the lab's SHA512-CRYPT: the store's logins before the
# backup and after the rebuild from a bare image run on production's hashes.
LOGINS = USERS + [POSTMASTER, SUBUNIT]
BLF_CRYPT = re.compile(r"^\{BLF-CRYPT\}(\$2[by]\$(\d\d)\$[./A-Za-z0-9]{53})$")


def passwd_hashes(host) -> dict[str, str]:
    """{address: hash} of Dovecot's passwd-file on the store."""
    lines = host.file("/etc/dovecot/users").content_string.splitlines()
    return {line.split(":")[0]: line.split(":")[1] for line in lines if line.strip() and not line.startswith("#")}


def check_bcrypt_hashes(host, lab) -> dict[str, str]:
    """Every account that may log in has a BLF-CRYPT hash ($2y$/$2b$, cost 10) of its vault password."""
    hashes = passwd_hashes(host)
    for user in LOGINS:
        found = BLF_CRYPT.match(hashes.get(user, ""))
        assert found, f"{user}: not a BLF-CRYPT ($2y$/$2b$) hash: {hashes.get(user, '(none)')[:16]}..."
        assert found[2] == "10", f"{user}: bcrypt cost {found[2]}, production's is 10"
        assert bcrypt.verify(inventory_password(user), found[1]), f"{user}: the hash is not of the vault password"
    return {user: hashes[user] for user in LOGINS}


def prefixes(hashes: dict[str, str]) -> str:
    """The schemes, bcrypt variants and costs of some hashes, e.g. '{BLF-CRYPT}$2y$10$'."""
    return ", ".join(sorted({h[:h.index("}") + 8] for h in hashes.values()}))


def login_answers(target, user: str, password: str) -> tuple[str, str, int, int]:
    """What IMAPS and SMTP AUTH on 587 answer to the right password and to a wrong one."""
    imap_ok, imap_wrong = imap_login_refused(target, user, password), imap_login_refused(target, user, password + "x")
    codes = []
    for attempt in (password, password + "x"):
        with submission(target) as client:
            try:
                codes.append(client.login(user, attempt)[0])
            except smtplib.SMTPAuthenticationError as err:
                codes.append(err.smtp_code)
    return imap_ok, imap_wrong, codes[0], codes[1]


@pytest.mark.control("TLS-03", "IMAP-02", "SMTP-04")
def test_store_checks_logins_against_production_bcrypt_hashes(lab, evidence):
    """BLF-CRYPT hashes in the passwd-file; IMAPS and submission accept the password and refuse a wrong one."""
    host = store_host()
    STATE["hashes"] = check_bcrypt_hashes(host, lab)
    imap_ok, imap_wrong, smtp_ok, smtp_wrong = login_answers(target_for(STORE, lab.hostname), USERS[0],
                                                             lab.password(USERS[0]))
    assert imap_ok == "", f"IMAPS LOGIN with the right password refused: {imap_ok}"
    assert "AUTHENTICATIONFAILED" in imap_wrong, imap_wrong
    assert (smtp_ok, smtp_wrong) == (235, 535)
    evidence(f"{len(LOGINS)} accounts hashed {prefixes(STATE['hashes'])}; IMAPS LOGIN OK, wrong password "
             f"AUTHENTICATIONFAILED; AUTH on 587: {smtp_ok} / {smtp_wrong}")


@pytest.mark.control("BAK-03")
def test_backup_is_scheduled_daily():
    host = store_host()
    assert host.service("mail-backup.timer").is_enabled
    assert host.service("mail-backup.timer").is_running
    assert "OnCalendar=daily" in host.file("/etc/systemd/system/mail-backup.timer").content_string


@pytest.mark.control("BAK-02")
def test_backup_accounts_are_key_only_and_isolated(backup_host):
    host = store_host()
    for acct in ("bk-store13-primary", "bk-store13-copy"):
        home = backup_host.user(acct).home
        assert backup_host.file(home).user == "root" and backup_host.file(home).mode == 0o755
        assert backup_host.file(f"{home}/repo").user == acct and backup_host.file(f"{home}/repo").mode == 0o700
        # Its shell is the append-only server: there is no shell to get.
        assert backup_host.user(acct).shell == "/usr/local/sbin/mail-backup-serve"
    ssh = "ssh -F /etc/mail-backup/ssh_config"
    # No SFTP at all (the forced command answers every session): no listing, no get, no rm,
    # neither of the account's own repository nor of the other one.
    listing = sh(host, "printf 'ls -a /\\n' | sftp -b - -F /etc/mail-backup/ssh_config mail-backup-primary")
    assert listing.rc != 0 and "repo" not in listing.stdout, listing.stdout
    for path in ("/srv/backup-copy/bk-store13-copy/repo/config", "/../bk-store13-copy/repo/config",
                 "/srv/backup/bk-store13-copy/repo/config", "/srv/backup/bk-store13-primary/repo/config"):
        for op in (f"get {path} /tmp/x", f"rm {path}"):
            r = sh(host, f"printf '{op}\\n' | sftp -b - -F /etc/mail-backup/ssh_config mail-backup-primary")
            assert r.rc != 0, (op, r.stdout)
    assert backup_host.file("/srv/backup-copy/bk-store13-copy/repo/config").exists
    assert backup_host.file("/srv/backup/bk-store13-primary/repo/config").exists
    # Through the server channel itself, asking for the other repository's path with the other
    # repository's password: the account's server ignores the path and serves only its own
    # repository, which that password does not open.
    copy_password = lab_backup_password("copy")
    r = sh(host, f"RESTIC_PASSWORD={copy_password!r} restic --no-cache -r rclone:x:/srv/backup-copy/bk-store13-copy/repo"
                 f" -o rclone.program='{ssh} mail-backup-primary' cat config 2>&1")
    assert r.rc != 0 and "wrong password" in r.stdout, r.stdout
    # No shell, no password: a command is not run, a password-only login is refused.
    r = sh(host, f"timeout 20 {ssh} mail-backup-primary id </dev/null 2>&1; true")
    assert "uid=" not in r.stdout
    r = sh(host, f"timeout 20 {ssh} -o PubkeyAuthentication=no -o PreferredAuthentications=password "
                 f"mail-backup-primary true </dev/null 2>&1; true")
    assert "Permission denied" in r.stdout
    # Host key pinned: an unknown key for the alias is refused.
    assert "StrictHostKeyChecking yes" in host.file("/etc/mail-backup/ssh_config").content_string


# #19: the webmail's data (Roundcube's SQLite database) in the backups. A user makes a contact and
# an identity through Roundcube over HTTPS before the backup; after the rebuild the same user sees
# them in Roundcube. The copy the backup takes is made by webmail-backup-db (the webmail role's
# webmail_backup_command, run by mail-backup first) with SQLite's VACUUM INTO.
WEBMAIL_USER = "vanphong@gialai.gov.vn"
WEBMAIL_DB = "/var/lib/roundcube/db/roundcube.sqlite"
WEBMAIL_COPY = "/var/backups/webmail/roundcube.sqlite"
WEBMAIL_CONTACT = {"firstname": "Trần Thị", "surname": "Mai Hương", "email": "mai.huong@partner.example"}
WEBMAIL_IDENTITY = {"name": "Văn phòng UBND tỉnh — Bộ phận một cửa", "organization": "UBND tỉnh Gia Lai",
                    "signature": "Trân trọng, Bộ phận tiếp nhận và trả kết quả (sao lưu #19)"}


def webmail_session(lab, user: str) -> tuple[Browser, str]:
    """A Roundcube session of `user` over HTTPS (the certificate verified for the mail host's name) and its
    request token (what the page's script sends with every request)."""
    target = target_for(STORE, lab.hostname)
    b = Browser(target.address, target.hostname, target.tls_context())
    answer = b.login(user, lab.password(user))
    assert answer.status == 302, (answer.status, answer.body[:2000])
    return b, request_token(b)


def sqlite_count(host, db: str, table: str) -> int:
    r = sh(host, f"sqlite3 -readonly {db} 'SELECT count(*) FROM {table}'")
    assert r.rc == 0, r.stderr
    return int(r.stdout.strip())


@pytest.mark.control("BAK-14")
def test_webmail_contact_and_identity_made_before_the_backup_and_copied_while_roundcube_writes(lab):
    """Through Roundcube over HTTPS: a contact and an identity, which Roundcube then lists. The backup's copy
    of the database (webmail-backup-db, SQLite's VACUUM INTO) taken while the user keeps saving contacts is a
    sound database holding what was saved before it started, and never a half-written one."""
    host = store_host()
    assert host.file(WEBMAIL_DB).user == "www-data"
    b, token = webmail_session(lab, WEBMAIL_USER)
    listed, vcards = webmail_contacts(b, token)
    assert not contact_shown(listed, vcards, WEBMAIL_CONTACT), "the contact exists before it is made"
    assert WEBMAIL_IDENTITY["name"] not in webmail_identities(b)
    webmail_add_contact(b, token, WEBMAIL_CONTACT)
    webmail_post(b, "/?_task=settings&_action=save-identity", [
        ("_token", token), ("_framed", "1"), ("_iid", ""), ("_name", WEBMAIL_IDENTITY["name"]),
        ("_organization", WEBMAIL_IDENTITY["organization"]), ("_reply-to", ""), ("_bcc", ""),
        ("_signature", WEBMAIL_IDENTITY["signature"])])
    listed, vcards = webmail_contacts(b, token)
    assert contact_shown(listed, vcards, WEBMAIL_CONTACT), listed + "\n" + vcards
    identities = webmail_identities(b)
    assert WEBMAIL_IDENTITY["name"] in identities and WEBMAIL_USER in identities, identities
    STATE["webmail_identities"] = identities

    # The copy under writes: Roundcube saves contacts (its own transactions) while the copy is made.
    before = sqlite_count(host, WEBMAIL_DB, "contacts")
    saved, errors = [], []

    def keep_saving():
        try:
            for i in range(12):
                webmail_add_contact(b, token, {"firstname": "Liên hệ", "surname": f"thứ {i}",
                                               "email": f"lienhe{i}@partner.example"})
                saved.append(i)
        except Exception as err:  # noqa: BLE001 (reported by the assertion below)
            errors.append(repr(err))

    worker = threading.Thread(target=keep_saving)
    worker.start()
    copies = []
    while worker.is_alive() or not copies:
        r = sh(host, "/usr/local/sbin/webmail-backup-db")
        assert r.rc == 0, r.stdout + r.stderr
        check = sh(host, f"sqlite3 -readonly {WEBMAIL_COPY} 'PRAGMA integrity_check'")
        assert check.stdout.strip() == "ok", check.stdout + check.stderr
        copies.append(sqlite_count(host, WEBMAIL_COPY, "contacts"))
    worker.join()
    assert errors == [] and len(saved) == 12, errors
    after = sqlite_count(host, WEBMAIL_DB, "contacts")
    assert after == before + 12
    assert all(before <= n <= after for n in copies) and copies == sorted(copies), (before, copies, after)
    copy = host.file(WEBMAIL_COPY)
    assert (copy.user, copy.mode) == ("root", 0o600) and host.file("/var/backups/webmail").mode == 0o700
    assert host.file(WEBMAIL_DB).user == "www-data" and host.file(WEBMAIL_DB).mode == 0o640
    print(f"\nwebmail copy under writes: {len(copies)} copies, contacts {before} -> {copies} -> {after}")


# WEB-18: the sub-unit's user changes their password (through the store's mail-password, as the webmail
# does) before the backup; from here on the lab fixture's password for it is the new one, which every
# later login uses (the inventory's stays in /etc/dovecot/users: inventory_password).
OWN_PASSWORD_USER = SUBUNIT
OWN_PASSWORD = "Ho-So#Sau-SaoLuu27"
OWN_PASSWORD_FILE = "/var/lib/mail-password/users"


@pytest.mark.control("WEB-18")
def test_a_user_changes_their_password_before_the_backup(lab):
    host = store_host()
    target = target_for(STORE, lab.hostname)
    old = inventory_password(OWN_PASSWORD_USER)
    assert lab.password(OWN_PASSWORD_USER) == old
    said = change_password(host, OWN_PASSWORD_USER, old, OWN_PASSWORD)
    assert said[-1].startswith("200 "), said
    assert imap_login_refused(target, OWN_PASSWORD_USER, OWN_PASSWORD) == ""
    assert "AUTHENTICATIONFAILED" in imap_login_refused(target, OWN_PASSWORD_USER, old)
    assert host.file(OWN_PASSWORD_FILE).contains(f"^{OWN_PASSWORD_USER}:")
    lab.passwords[OWN_PASSWORD_USER] = OWN_PASSWORD


@pytest.mark.control("BAK-05", "BAK-04")
def test_seed_then_backup_during_delivery_loses_nothing(lab):
    host = store_host()
    target = target_for(STORE, lab.hostname)
    big = os.urandom(8 * 1024 * 1024)
    before = {u: len(d) for u, d in mailbox_digests(target, lab, USERS).items()}
    for i, user in enumerate(USERS):
        for subject in SUBJECTS:
            msg = make_message("partner@example.org", [user], f"{subject} #{i}", body=f"Nội dung {subject}\n")
            smtp_send(target, msg)
    smtp_send(target, make_message("partner@example.org", [USERS[0]], "Tệp đính kèm lớn 8 MB",
                                   attachment=big, attachment_name="bao-cao.bin"))
    seeded = {u: before[u] + len(SUBJECTS) + (1 if u == USERS[0] else 0) for u in USERS}
    have = wait_for_count(target, lab, seeded)
    assert have == seeded
    # For the rebuild (BAK-01, #17): folders beyond INBOX, and mail for the accounts that cannot log in.
    seed_folders(target, lab, FOLDER_USER)
    STATE["sieve"] = seed_sieve(target, lab, FOLDER_USER)
    locked_before = {a: len(maildir_files(host, a)) for a in LOCKED}
    for address in LOCKED:
        for subject in SUBJECTS[:2]:
            smtp_send(target, make_message("partner@example.org", [address], f"{subject} (khóa)", body="Vẫn nhận thư\n"))
    deadline = time.monotonic() + 120
    while any(len(maildir_files(host, a)) < locked_before[a] + 2 for a in LOCKED) and time.monotonic() < deadline:
        time.sleep(2)
    assert {a: len(maildir_files(host, a)) for a in LOCKED} == {a: n + 2 for a, n in locked_before.items()}
    # Two small messages for the sub-unit's mailbox (restored by agency later; its quota is 1M).
    sub_before = len(mailbox_digests(target, lab, [SUBUNIT])[SUBUNIT])
    for subject in SUBJECTS[:2]:
        smtp_send(target, make_message("partner@example.org", [SUBUNIT], f"{subject} (Lưu trữ)", body="Hồ sơ lưu trữ\n"))
    assert wait_for_count(target, lab, {SUBUNIT: sub_before + 2}) == {SUBUNIT: sub_before + 2}
    # Deliver while the backup runs.
    stop = threading.Event()
    sent = []

    def deliver():
        n = 0
        while not stop.is_set() and n < 40:
            smtp_send(target, make_message("partner@example.org", [USERS[n % 3]], f"Trong lúc sao lưu {n}"))
            sent.append(USERS[n % 3])
            n += 1

    worker = threading.Thread(target=deliver)
    worker.start()
    time.sleep(1)
    result = start_backup(host)
    stop.set()
    worker.join()
    assert result.rc == 0, sh(host, "journalctl -u mail-backup -n 60 --no-pager").stdout
    assert sent, "nothing was delivered during the backup"
    for repo in ("primary", "copy"):
        snaps = restic_json(host, repo, "snapshots --host bk-store13")
        assert snaps, repo
    snap = restic_json(host, "primary", "snapshots --host bk-store13 latest")[-1]["short_id"]
    # The snapshot taken under delivery holds every message its manifest lists, unchanged.
    r = sh(host, f"rm -rf /var/tmp/bk-verify && /usr/local/sbin/mail-restic primary restore {snap} --target /var/tmp/bk-verify"
                 f" && /usr/local/sbin/mail-backup-tool verify --manifest /var/tmp/bk-verify/var/lib/mail-backup/manifest.json"
                 f" --root /var/tmp/bk-verify/var/vmail; rc=$?; rm -rf /var/tmp/bk-verify; exit $rc")
    assert r.rc == 0, r.stdout + r.stderr
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["missing"] == [] and report["changed"] == []
    assert report["present"] >= sum(seeded.values())
    want = {u: seeded[u] + sent.count(u) for u in USERS}
    have = wait_for_count(target, lab, want)
    assert all(have[u] >= n for u, n in want.items()), \
        f"not every message sent during the backup was delivered (messages in INBOX): have {have}, want {want}"


@pytest.mark.control("BAK-03", "BAK-06")
def test_failed_backup_is_visible_mailed_and_does_not_stop_the_next(lab, backup_host):
    host = store_host()
    target = target_for(STORE, lab.hostname)
    before = len(mailbox_digests(target, lab, [POSTMASTER])[POSTMASTER])
    repo = "/srv/backup/bk-store13-primary/repo"
    assert backup_host.run(f"chmod 000 {repo}").rc == 0
    try:
        mark = journal_mark(host)
        result = start_backup(host)
        assert result.rc != 0
        assert sh(host, "systemctl is-failed mail-backup.service").stdout.strip() == "failed"
        # this run's lines only, read again (bounded) until journald has stored the last of them
        journal = journal_after(host, mark, "FAILED: repository primary", "FAILED steps: ", unit="mail-backup")
        assert "FAILED: repository primary" in journal
        assert "FAILED steps: primary backup\n" in journal + "\n", "the copy repository must still be backed up"
        assert host.service("mail-backup.timer").is_running
    finally:
        backup_host.run(f"chmod 700 {repo}")
    have = wait_for_count(target, lab, {POSTMASTER: before + 1}, timeout=90)
    assert have[POSTMASTER] == before + 1
    assert any("[mail-backup] mail-backup.service FAILED" in s for s in imap_subjects(target, lab, POSTMASTER))
    # The next run works again (and is the snapshot the rebuild restores).
    sh(host, "systemctl reset-failed mail-backup.service")
    assert start_backup(host).rc == 0


H2C = (pathlib.Path(__file__).parent / "h2c_request.py").read_text()
REPOS = {"primary": "/srv/backup/bk-store13-primary/repo", "copy": "/srv/backup-copy/bk-store13-copy/repo"}


def repo_request(method: str, path: str, repo: str = "primary", body: bytes | None = None) -> tuple[str, str]:
    """One REST request to the repository server, sent from the store as root over its own key (h2c_request.py)."""
    args = [method, path]
    if body is not None:
        store_host().run(f"printf %s {body.decode()!r} > /root/.bk-body")
        args.append("/root/.bk-body")
    r = subprocess.run(["podman", "exec", "-i", "-e", f"MAIL_BACKUP_ALIAS=mail-backup-{repo}", STORE,
                        "python3", "-", *args], input=H2C, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip(), r.stderr


def repo_files(backup_host, repo: str) -> dict[str, str]:
    """{path: SHA-256} of every file of a repository except its locks, read on the backup host."""
    out = backup_host.run(f"cd {REPOS[repo]} && find . -type f ! -path './locks/*' -print0 | xargs -0 sha256sum").stdout
    return {line.split(None, 1)[1].strip(): line.split()[0] for line in out.splitlines() if line.strip()}


def snapshot_ids(host, repo: str) -> list[str]:
    return sorted(s["id"] for s in restic_json(host, repo, "snapshots"))


@pytest.mark.control("BAK-10")
def test_store_cannot_delete_or_overwrite_backups(backup_host):
    """As root on the store, with its own key and password: forget --prune, deleting and overwriting a pack,
    and plain ssh/sftp removals are all refused; every file stays as it was and the last snapshot restores."""
    host = store_host()
    before = {repo: repo_files(backup_host, repo) for repo in REPOS}
    snaps = {repo: snapshot_ids(host, repo) for repo in REPOS}
    # Both at once: restic retries the refused deletions for a while before it gives up.
    sh(host, "for repo in primary copy; do (timeout 300 /usr/local/sbin/mail-restic $repo forget --prune --keep-last 1"
             " > /root/.bk-forget-$repo 2>&1; echo $? > /root/.bk-forget-$repo.rc) & done; wait")
    for repo in REPOS:
        assert len(snaps[repo]) >= 2, (repo, snaps[repo])
        rc = sh(host, f"cat /root/.bk-forget-{repo}.rc").stdout.strip()
        output = sh(host, f"tail -c 1500 /root/.bk-forget-{repo}").stdout
        assert rc not in ("0", "124"), f"{repo}: forget --prune was not refused (exit {rc}): {output}"
        assert snapshot_ids(host, repo) == snaps[repo], f"{repo}: a snapshot was forgotten: {output}"
    pack = next(p for p in sorted(before["primary"]) if p.startswith("./data/"))
    pack_id = pack.rsplit("/", 1)[-1]
    key_id = next(p for p in sorted(before["primary"]) if p.startswith("./keys/")).rsplit("/", 1)[-1]
    snap_id = snaps["primary"][0]
    # The server channel itself (restic's REST protocol over the forced command), by hand.
    for method, path, body in (("DELETE", f"/data/{pack_id}", None),
                               ("POST", f"/data/{pack_id}", b"overwritten by the store"),
                               ("DELETE", f"/keys/{key_id}", None),
                               ("DELETE", f"/snapshots/{snap_id}", None),
                               ("POST", "/config", b"overwritten by the store"),
                               ("DELETE", "/config", None)):
        status, err = repo_request(method, path, body=body)
        assert status == "403", f"{method} {path} answered {status}, not 403 Forbidden: {err}"
    # The channel works and is the one tested: reading that pack is allowed.
    status, err = repo_request("GET", f"/data/{pack_id}")
    assert status == "200", f"GET /data/{pack_id} answered {status}: {err}"
    # Plain ssh and sftp: no command, no subsystem reaches the files.
    ssh = "ssh -F /etc/mail-backup/ssh_config"
    full = f"{REPOS['primary']}/{pack[2:]}"
    sh(host, f"timeout 20 {ssh} mail-backup-primary rm -f {full} </dev/null; true")
    sh(host, f"timeout 20 {ssh} -s mail-backup-primary sftp </dev/null; true")
    r = sh(host, f"printf 'rm {full}\\nrm /repo/{pack[2:]}\\n' | sftp -b - -F /etc/mail-backup/ssh_config mail-backup-primary")
    assert r.rc != 0
    after = {repo: repo_files(backup_host, repo) for repo in REPOS}
    for repo in REPOS:
        lost = sorted(set(before[repo]) - set(after[repo]))
        changed = sorted(p for p in before[repo] if p in after[repo] and after[repo][p] != before[repo][p])
        assert (lost, changed) == ([], []), f"{repo}: files deleted {lost} or changed {changed}"
    # The last snapshot still restores, message for message against its manifest.
    for repo in REPOS:
        r = sh(host, f"rm -rf /var/tmp/bk-verify && /usr/local/sbin/mail-restic {repo} restore latest --host bk-store13"
                     f" --target /var/tmp/bk-verify && /usr/local/sbin/mail-backup-tool verify"
                     f" --manifest /var/tmp/bk-verify/var/lib/mail-backup/manifest.json --root /var/tmp/bk-verify/var/vmail;"
                     f" rc=$?; rm -rf /var/tmp/bk-verify; exit $rc")
        assert r.rc == 0, f"{repo}: {r.stdout} {r.stderr}"
        report = json.loads(r.stdout.strip().splitlines()[-1])
        assert report["missing"] == [] and report["changed"] == [] and report["present"] > 0, (repo, report)


@pytest.mark.control("BAK-11")
def test_backup_host_prunes_with_the_retention(backup_host):
    """mail-backup-prune.service on the backup host applies the lab's retention (keep-last 3 on one day)."""
    host = store_host()
    latest = {repo: restic_json(host, repo, "snapshots --host bk-store13 --tag mail-backup latest")[-1]["id"]
              for repo in REPOS}
    archives = {repo: {s["id"] for s in restic_json(host, repo, "snapshots --tag mail-archive")} for repo in REPOS}
    # Five snapshots of one small path under a host name of their own (their own restic group, so the
    # snapshot a later restore takes as `latest` of bk-store13 stays the real one).
    earlier = {s["id"] for s in restic_json(host, "primary", "snapshots --host bk-prune-test")}  # a re-run
    made = []
    for _ in range(5):
        r = sh(host, "/usr/local/sbin/mail-restic primary backup --json --host bk-prune-test --tag mail-backup /etc/mailname")
        assert r.rc == 0, r.stderr
        made.append(next(json.loads(line)["snapshot_id"] for line in r.stdout.splitlines()
                         if '"summary"' in line))
    mark = journal_mark(backup_host)
    result = backup_host.run("systemctl start mail-backup-prune.service")
    journal = journal_after(backup_host, mark, "bk-store13-primary", "bk-store13-copy", unit="mail-backup-prune")
    assert result.rc == 0, journal
    assert "bk-store13-primary" in journal and "bk-store13-copy" in journal, journal
    kept = {s["id"] for s in restic_json(host, "primary", "snapshots --host bk-prune-test")}
    # backup_retention on five snapshots of one day: the last 3 are kept (the daily, weekly and monthly
    # ones are among them); restic >= 0.17 also keeps the oldest while fewer days than keep-daily exist
    # (Debian 13), 0.14 does not (Debian 12). The second oldest goes either way.
    assert set(made[-3:]) <= kept and made[1] not in kept and kept <= set(made) | earlier and len(kept) <= 4, \
        f"kept {sorted(kept)} of {made} (oldest first): the newest three must stay, the second oldest go"
    for repo in REPOS:
        real = [s for s in restic_json(host, repo, "snapshots --host bk-store13")
                if "mail-archive" not in (s.get("tags") or [])]
        assert latest[repo] in [s["id"] for s in real], f"{repo}: the newest snapshot of the store was pruned"
        assert 1 <= len(real) <= 4, (repo, [s["id"] for s in real])
        kept_archives = {s["id"] for s in restic_json(host, repo, "snapshots --tag mail-archive")}
        assert kept_archives == archives[repo], f"{repo}: an archive snapshot (never pruned) was pruned"
    assert backup_host.service("mail-backup-prune.timer").is_enabled


def run_vvv(name: str, *args: str, tmp_path: pathlib.Path, **env: str) -> tuple[subprocess.CompletedProcess, str]:
    """A playbook at -vvv with Ansible's log file on; (result, stdout + stderr + the log)."""
    log = tmp_path / f"{name}.log"
    result = playbook(name, "-vvv", *args, env={"ANSIBLE_LOG_PATH": str(log), **env})
    out = result.stdout + result.stderr + (log.read_text() if log.exists() else "")
    assert "task path:" in out, "not a -vvv run:\n" + out[-2000:]
    return result, out


def no_secret(out: str, secrets: dict[str, str]) -> None:
    leaked = sorted(name for name, value in secrets.items() if value in out)
    assert not leaked, f"secrets printed: {leaked}\n" + "\n".join(
        line for line in out.splitlines() if any(v in line for v in secrets.values()))[:3000]


@pytest.mark.control("BAK-07", "CFG-04")
def test_wrong_repository_password_fails_clearly_and_changes_nothing(lab, tmp_path):
    host = store_host()
    inv_vars = yaml.safe_load((ROOT / "inventories/lab/group_vars/all/backup.yml").read_text())
    wrong = "not-the-right-password-MARK-5e1f"
    repos = [dict(r, server=BACKUP, password=wrong) for r in inv_vars["backup_repositories"]]
    count = sh(host, "find /var/vmail -type f | wc -l").stdout
    # at -vvv under the scenario's strategy (Mitogen in the lab): the wrong password is never printed
    result, out = run_vvv("restore.yml", "--limit", STORE, "-e", json.dumps({"backup_repositories": repos}),
                          tmp_path=tmp_path)
    assert result.returncode != 0, out[-3000:]
    assert "backup repository primary" in out and "wrong restic password" in out, out[-3000:]
    no_secret(out, {"wrong password": wrong})
    assert sh(host, "find /var/vmail -type f | wc -l").stdout == count
    assert not host.file("/var/vmail/.restore-stage").exists


@pytest.mark.control("CFG-04")
def test_backup_tasks_on_the_host_never_print_the_repository_passwords(lab, tmp_path):
    """The tasks that open, create and restore from the repositories, run at -vvv against the store.

    Under the plain linear strategy, the production path: its connection prints every command it
    runs on the host at -vvv (podman_pipelined: RUN; ssh: EXEC), with a task's environment in front,
    whatever no_log says. The password reaches restic on standard input (mail-restic --password-stdin).
    """
    secrets = {repo: lab_backup_password(repo) for repo in ("primary", "copy")}
    linear = {"ANSIBLE_STRATEGY": "linear"}
    # config.yml: open each repository with the inventory's password, then write its password file
    result, out = run_vvv("site.yml", "--limit", STORE, "--tags", "backup_config", tmp_path=tmp_path, **linear)
    assert result.returncode == 0, out[-5000:]
    assert "TASK [backup_client : Open each repository" in out and "RUN [" in out, out[-3000:]
    no_secret(out, secrets)
    # restore.yml: open, find the snapshot, restore (one mailbox that is complete: nothing is added)
    result, out = run_vvv("restore.yml", "--limit", STORE, "-e", f"backup_restore_scope=mailbox:{USERS[0]}",
                          tmp_path=tmp_path, **linear)
    assert result.returncode == 0, out[-5000:]
    assert "TASK [backup_client : Restore the snapshot's part" in out, out[-3000:]
    no_secret(out, secrets)


@pytest.mark.control("BAK-01", "BAK-05", "BAK-08", "CFG-03")
def test_disaster_recovery_rebuild_brings_every_message_back(lab):
    target = target_for(STORE, lab.hostname)
    users = USERS + [POSTMASTER, SUBUNIT]
    expected = mailbox_digests(target, lab, users)
    # #17: every folder of every user over IMAPS, and the locked accounts' Maildirs on the host
    folders = folder_digests(target, lab, users)
    seeded = {imap_utf7(f): n for f, n in FOLDERS.items()}
    assert {f: len(folders[FOLDER_USER].get(f, [])) for f in seeded} == seeded, folders[FOLDER_USER]
    locked = {a: maildir_files(store_host(), a) for a in LOCKED}
    assert all(len(files) >= 2 for files in locked.values()), locked
    size = store_host().run("du -sb /var/vmail | cut -f1").stdout.strip()
    # BAK-13: the DKIM key the DNS publishes (generated on this host; p= of the record dns-records.yml prints)
    STATE["dkim_record"] = dkim_public_key(store_host())
    assert len(STATE["dkim_record"]) > 300, STATE["dkim_record"]
    # The store is lost: remove the container, start an empty one in its place.
    image = os.environ.get("MAIL_IMAGE_DEBIAN13", "localhost/debian13-systemd:latest")
    podman("rm", "-f", STORE)
    started = time.monotonic()
    podman("run", "-d", "--name", STORE, "--hostname", "mail.gialai.gov.vn", "--network", "molecule-mail-backup",
           "--label", "owner=molecule", "--systemd=always", "--cap-add", "NET_ADMIN", image, "/lib/systemd/systemd")
    for _ in range(60):
        if podman("exec", STORE, "systemctl", "is-system-running", check=False).stdout.strip() in ("running", "degraded"):
            break
        time.sleep(1)
    assert not store_host().file("/var/vmail").exists
    # The backup host is in the run: its firewall must admit the new container's address.
    result = playbook("rebuild.yml", "--limit", f"{STORE}:mail_backup")
    rto = time.monotonic() - started
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-5000:]
    target = target_for(STORE, lab.hostname)
    restored = mailbox_digests(target, lab, users)
    missing = changed = duplicated = 0
    for user in users:
        want, have = expected[user], restored[user]
        for digest in set(want):
            missing += max(0, want.count(digest) - have.count(digest))
            duplicated += max(0, have.count(digest) - want.count(digest))
        changed += len(set(have) - set(want))
    total = sum(len(v) for v in expected.values())
    print(f"\nRTO (new container + rebuild.yml + restore, Debian 13): {rto:.0f} s for {total} messages, "
          f"{int(size) / 1048576:.1f} MiB of mail; missing={missing} changed={changed} duplicated={duplicated}")
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "backup-rto.json").write_text(json.dumps(
        {"rto_seconds": round(rto, 1), "messages": total, "bytes": int(size),
         "missing": missing, "changed": changed, "duplicated": duplicated}) + "\n")
    assert (missing, changed, duplicated) == (0, 0, 0)
    assert restored == expected
    STATE["expected"] = expected
    # Every folder, not only INBOX: the same folders with the same messages.
    assert folder_digests(target, lab, users) == folders
    # The suspended and departed accounts: every message file back (read on the host, by checksum),
    # and they still cannot log in.
    host = store_host()
    assert {a: maildir_files(host, a) for a in LOCKED} == locked
    for address in LOCKED:
        answer = imap_login_refused(target, address, lab.password(address))
        assert "AUTHENTICATIONFAILED" in answer, f"{address} logged in after the rebuild: {answer!r}"
    # CFG-03 on the host built from bare Debian 13: every package went in with its start held back
    # (policy_rc_d), and what the next boot would start already runs (or was tried by systemd).
    assert never_started(host) == []


@pytest.mark.control("WEB-18")
def test_rebuilt_store_keeps_the_password_the_user_set(lab):
    """After rebuild.yml on an empty container the user logs in with the password they set before the
    backup, and the inventory's is refused: the own password file came back, owned as the dovecot role makes it."""
    host = store_host()
    target = target_for(STORE, lab.hostname)
    own = host.file(OWN_PASSWORD_FILE)
    assert (own.user, own.group, own.mode) == ("mail-password", "dovecot", 0o640)
    assert imap_login_refused(target, OWN_PASSWORD_USER, OWN_PASSWORD) == ""
    answer = imap_login_refused(target, OWN_PASSWORD_USER, inventory_password(OWN_PASSWORD_USER))
    assert "AUTHENTICATIONFAILED" in answer, answer


@pytest.mark.control("BAK-01")
def test_rebuilt_store_keeps_the_users_sieve_scripts_and_runs_the_active_one(lab, evidence):
    """After rebuild.yml: ManageSieve lists the same scripts with the same text, the same one ACTIVE, and
    its rule still acts at delivery: a message with the token is filed into its folder, not INBOX (where
    it lands when the scripts are lost: no other message is sent to INBOX, for the restore tests' counts)."""
    target = target_for(STORE, lab.hostname)
    assert sieve_state(target, lab, FOLDER_USER) == STATE["sieve"], "the user's Sieve scripts are not back"
    assert delivered_to(target, lab, FOLDER_USER, f"Công văn {SIEVE_TOKEN} sau khôi phục") == [imap_utf7(SIEVE_FOLDER)]
    evidence(f"{FOLDER_USER}: ManageSieve lists {sorted(STATE['sieve'])} (ACTIVE: {SIEVE_ACTIVE}) as before the "
             f"backup; after the rebuild a message with {SIEVE_TOKEN} is filed into {SIEVE_FOLDER}, not INBOX")


@pytest.mark.control("TLS-03", "IMAP-02", "SMTP-04")
def test_rebuilt_store_hashes_with_bcrypt_and_accepts_the_lost_hosts_hashes(lab, evidence):
    """The store rebuilt from a bare image: BLF-CRYPT again, logins checked, and its Dovecot verifies the
    hashes the lost host had written (and a $2b$ hash, as other bcrypt tools write it)."""
    host = store_host()
    rebuilt = check_bcrypt_hashes(host, lab)
    imap_ok, imap_wrong, smtp_ok, smtp_wrong = login_answers(target_for(STORE, lab.hostname), USERS[1],
                                                             lab.password(USERS[1]))
    assert imap_ok == "" and "AUTHENTICATIONFAILED" in imap_wrong, (imap_ok, imap_wrong)
    assert (smtp_ok, smtp_wrong) == (235, 535)
    lost = dict(STATE["hashes"])
    lost["2b"] = "{BLF-CRYPT}" + bcrypt.using(rounds=10, ident="2b").hash(inventory_password(USERS[0]))
    for user, hashed in lost.items():
        password = inventory_password(USERS[0] if user == "2b" else user)
        good = host.run(f"doveadm pw -t {shlex.quote(hashed)} -p {shlex.quote(password)}")
        bad = host.run(f"doveadm pw -t {shlex.quote(hashed)} -p {shlex.quote(password + 'x')}")
        assert good.rc == 0 and "(verified)" in good.stdout, (user, good.stdout, good.stderr)
        assert bad.rc != 0 and "(verified)" not in bad.stdout, (user, bad.stdout, bad.stderr)
    evidence(f"rebuilt host: {prefixes(rebuilt)} hashes, IMAPS and AUTH on 587 ({smtp_ok} / {smtp_wrong}); "
             f"doveadm pw -t verifies the lost host's {len(lost) - 1} hashes and a $2b$ one, refuses wrong passwords")


@pytest.mark.control("BAK-14")
def test_rebuilt_webmail_shows_the_users_contact_and_identity(lab):
    """After rebuild.yml on an empty container: the database is the restored copy, owned as the webmail role
    makes it; the login page is served; the same user sees the contact and the identity made before."""
    host = store_host()
    db = host.file(WEBMAIL_DB)
    assert (db.user, db.group, db.mode) == ("www-data", "www-data", 0o640)
    target = target_for(STORE, lab.hostname)
    page = Browser(target.address, target.hostname, target.tls_context()).get("/")
    assert page.status == 200 and 'id="rcmloginuser"' in page.body, (page.status, page.body[:2000])
    b, token = webmail_session(lab, WEBMAIL_USER)
    listed, vcards = webmail_contacts(b, token)
    assert contact_shown(listed, vcards, WEBMAIL_CONTACT), listed + "\n" + vcards
    identities = webmail_identities(b)
    assert WEBMAIL_IDENTITY["name"] in identities, identities
    assert identities.split() == STATE["webmail_identities"].split()


DKIM_DOMAIN = "gialai.gov.vn"
DKIM_SELECTOR = yaml.safe_load((ROOT / "inventories/lab/group_vars/all/mail.yml").read_text())["dkim_selector"]


def dkim_public_key(host) -> str:
    """The p= of the domain's DKIM record: the public half of the host's key, as playbooks/dns-records.yml prints it."""
    r = host.run(f"bash -c 'set -o pipefail; openssl pkey -in /etc/dkimkeys/{DKIM_DOMAIN}/{DKIM_SELECTOR}.private "
                 "-pubout -outform DER | base64 -w0'")
    assert r.rc == 0, r.stderr
    return r.stdout.strip()


@pytest.mark.control("BAK-13")
def test_rebuilt_host_signs_with_the_dkim_key_the_dns_already_publishes(lab):
    """The key was generated on the lost host: rebuild.yml brings it back from the snapshot."""
    host = store_host()
    assert dkim_public_key(host) == STATE["dkim_record"], "the rebuilt host has a new DKIM key: every message fails DKIM"
    # A message signed after the rebuild (local sendmail is ORIGINATING: signed) verifies with the old record.
    target = target_for(STORE, lab.hostname)
    mid = f"<dkim-rebuild-{int(time.time())}@{lab.hostname}>"
    sent = host.run(f"printf 'From: {POSTMASTER}\\nTo: {POSTMASTER}\\nSubject: DKIM after the rebuild\\n"
                    f"Message-ID: {mid}\\n\\nSigned with the old key.\\n' | /usr/sbin/sendmail -oi {POSTMASTER}")
    assert sent.rc == 0, sent.stderr
    got = imap_wait_for(target, POSTMASTER, lab.password(POSTMASTER), mid)
    assert len(got) == 1
    ok, why = dkim.verify(got[0], STATE["dkim_record"], DKIM_DOMAIN, DKIM_SELECTOR)
    assert ok, why + "\n" + got[0][:3000].decode(errors="replace")
    # ... and the check can fail: the same message against another key does not verify
    other = base64.b64encode(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    assert not dkim.verify(got[0], other, DKIM_DOMAIN, DKIM_SELECTOR)[0]


def delete_first_message(target, lab, user):
    """Flag the first INBOX message \\Deleted and expunge it, over IMAPS, as the user would."""
    with IMAPS(target) as imap:
        imap.login(user, lab.password(user))
        imap.select("INBOX")
        imap.store(b"1", "+FLAGS", "\\Deleted")
        imap.expunge()
        imap.logout()


@pytest.mark.control("BAK-08")
def test_restore_adds_no_duplicates_and_keeps_newer_mail(lab):
    host = store_host()
    target = target_for(STORE, lab.hostname)
    user = USERS[1]
    # A message that arrives after the snapshot, and one the user deletes.
    newer = make_message("partner@example.org", [user], "Thư mới sau bản sao lưu")
    smtp_send(target, newer)
    wait_for_count(target, lab, {user: len(STATE["expected"][user]) + 1})
    delete_first_message(target, lab, user)
    result = playbook("restore.yml", "--limit", STORE, "-e", f"backup_restore_scope=mailbox:{user}")
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    now = mailbox_digests(target, lab, [user])[user]
    want = STATE["expected"][user]
    assert len(now) == len(want) + 1
    assert set(want) <= set(now)
    assert len(set(now)) == len(now), "a message is there twice"
    assert len(set(now) - set(want)) == 1, "the newer message must be kept"
    assert not host.file("/var/vmail/.restore-stage").exists


@pytest.mark.control("BAK-08")
def test_restore_of_one_agency_brings_back_its_sub_units_and_nothing_else(lab):
    """restore.yml -e backup_restore_scope=agency:<code>: the sub-unit alone, then the agency with its sub-unit."""
    host = store_host()
    target = target_for(STORE, lab.hostname)
    expected = STATE["expected"]
    leader = USERS[0]  # locnv@, of VP itself
    for user in (SUBUNIT, leader):
        delete_first_message(target, lab, user)
    now = mailbox_digests(target, lab, [SUBUNIT, leader])
    assert {u: len(d) for u, d in now.items()} == {SUBUNIT: len(expected[SUBUNIT]) - 1,
                                                   leader: len(expected[leader]) - 1}

    # The sub-unit VP-LT (its code in lower case on purpose): luutru@ is back, VP's own locnv@ is not touched.
    result = playbook("restore.yml", "--limit", STORE, "-e", "backup_restore_scope=agency:vp-lt")
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    now = mailbox_digests(target, lab, [SUBUNIT, leader])
    assert now[SUBUNIT] == expected[SUBUNIT]
    assert len(now[leader]) == len(expected[leader]) - 1 and set(now[leader]) < set(expected[leader])

    # The agency VP: every mailbox of VP and of its sub-unit.
    result = playbook("restore.yml", "--limit", STORE, "-e", "backup_restore_scope=agency:VP")
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    agency_of = {a["address"]: a.get("agency") for a in lab_mail()["accounts"]}
    vp = [user for user in expected if agency_of[user] in ("VP", "VP-LT")]
    assert sorted(vp) == sorted(expected), "every mailbox the rebuild proved belongs to VP or VP-LT"
    now = mailbox_digests(target, lab, vp)
    assert now[leader] == expected[leader]
    assert now[SUBUNIT] == expected[SUBUNIT], "the sub-unit, restored before, must get no duplicates"
    for user in vp:  # hoatt@ also keeps the newer message of the previous test
        assert set(expected[user]) <= set(now[user]), user
        assert len(set(now[user])) == len(now[user]), f"{user}: a message is there twice"

    # An unknown agency: refused, naming it and the known codes, before anything changes.
    count = sh(host, "find /var/vmail -type f | wc -l").stdout
    result = playbook("restore.yml", "--limit", STORE, "-e", "backup_restore_scope=agency:NOPE")
    out = result.stdout + result.stderr
    assert result.returncode != 0, out[-3000:]
    assert "unknown agency NOPE" in out and "Known agencies: VP, VP-LT" in out, out[-3000:]
    assert sh(host, "find /var/vmail -type f | wc -l").stdout == count
    assert not host.file("/var/vmail/.restore-stage").exists


@pytest.mark.control("BAK-12")
def test_restore_does_not_follow_a_link_planted_in_the_store(lab):
    """Code running as vmail swaps a mailbox directory for a link to a root-owned directory outside the
    store; restore.yml of that mailbox fails naming the link and the directory stays as it was."""
    host = store_host()
    user = "vanphong@gialai.gov.vn"
    userdir = "/var/vmail/gialai.gov.vn/vanphong"
    target = "/usr/local/lib/bk-link-target"  # stands in for /usr/local/sbin
    state = f"stat -c '%U %G %a %n' {target} {target}/* && sha256sum {target}/*"
    mail = mailbox_digests(target_for(STORE, lab.hostname), lab, [user])[user]
    assert sh(host, f"mkdir -m 0755 {target} && printf '#!/bin/sh\\necho root tool\\n' > {target}/tool"
                    f" && chmod 0755 {target}/tool").rc == 0
    before = sh(host, state).stdout
    r = sh(host, f"runuser -u vmail -- sh -c 'mv {userdir} {userdir}.moved && ln -s {target} {userdir}'")
    assert r.rc == 0, r.stderr
    try:
        result = playbook("restore.yml", "--limit", STORE, "-e", f"backup_restore_scope=mailbox:{user}")
        out = result.stdout + result.stderr
        assert result.returncode != 0, out[-3000:]
        assert "links_refused" in out and userdir in out.split("links_refused", 1)[1][:400], out[-3000:]
        assert sh(host, state).stdout == before, "the directory the link points to was changed"
        assert host.file(userdir).is_symlink
    finally:
        sh(host, f"rm -f {userdir} && mv {userdir}.moved {userdir}; rm -rf {target}")
    assert mailbox_digests(target_for(STORE, lab.hostname), lab, [user])[user] == mail


DEPARTED = "hungpv@gialai.gov.vn"  # lab: departed 2026-10-01, 6 months' retention -> due 2027-04-01


def maildir_digests(host, address: str) -> dict[str, str]:
    """{path under the Maildir: SHA-256} of every message file of a mailbox, read on the store."""
    user, domain = address.split("@")
    maildir = f"/var/vmail/{domain}/{user}/Maildir"
    out = sh(host, f"cd {maildir} 2>/dev/null && find . -path '*/cur/*' -type f -o -path '*/new/*' -type f "
                   "| xargs -r sha256sum").stdout
    # flags (":2,S") may change; the Maildir base name identifies a message
    return {line.split(None, 1)[1].strip().rsplit("/", 1)[-1].split(":2,")[0]: line.split()[0]
            for line in out.splitlines() if line.strip()}


@pytest.mark.control("BAK-09")
def test_departed_account_past_retention_is_archived_verified_then_removed(lab):
    """accounts.yml on a date after the retention: archive to both repositories, then remove; restorable."""
    host = store_host()
    target = target_for(STORE, lab.hostname)
    user, domain = DEPARTED.split("@")
    userdir = f"/var/vmail/{domain}/{user}"
    # Until its retention ends the departed account still receives mail (it holds the seed test's already).
    before = len(maildir_digests(host, DEPARTED))
    for subject in ("Quyết định nghỉ hưu", "Bàn giao hồ sơ — tệp đính kèm"):
        smtp_send(target, make_message("partner@example.org", [DEPARTED], subject, body="x" * 200_000))
    deadline = time.monotonic() + 120
    while len(maildir_digests(host, DEPARTED)) < before + 2 and time.monotonic() < deadline:
        time.sleep(2)
    seeded = maildir_digests(host, DEPARTED)
    assert len(seeded) == before + 2, seeded

    def archive_snapshots(repo):
        return restic_json(host, repo, f"snapshots --tag mail-archive,mailbox:{DEPARTED}")

    known = {repo: {s["id"] for s in archive_snapshots(repo)} for repo in ("primary", "copy")}
    later = ["-e", "mail_lifecycle_date=2027-06-01"]
    # The dry run names the mailbox and removes nothing.
    result = playbook("accounts.yml", "--limit", STORE, "--check", "--diff", *later)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "archive_then_remove" in out and DEPARTED in out, out[-4000:]
    assert host.file(userdir).is_directory

    result = playbook("accounts.yml", "--limit", STORE, *later)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-5000:]
    assert not host.file(userdir).exists, "the mailbox must be removed once archived"
    # The address is gone: mail to it is refused at RCPT time.
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        smtp_send(target, make_message("partner@example.org", [DEPARTED], "after removal"))
    assert refused.value.recipients[DEPARTED][0] // 100 == 5, refused.value.recipients
    # Each repository holds one new tagged archive snapshot of it.
    archives = {}
    for repo in ("primary", "copy"):
        new = [s for s in archive_snapshots(repo) if s["id"] not in known[repo]]
        assert len(new) == 1, (repo, new)
        archives[repo] = new[0]["id"]
    # A second run has nothing left to archive (0 changed for the archive task).
    again = playbook("accounts.yml", "--limit", STORE, *later)
    assert again.returncode == 0 and "changed=0" in again.stdout.split("PLAY RECAP")[-1], again.stdout[-3000:]
    # The archive is restorable by its id, message for message, from the second copy too.
    result = playbook("restore.yml", "--limit", STORE, "-e", json.dumps({
        "backup_restore_snapshot": archives["copy"], "backup_restore_repository": "copy",
        "backup_restore_scope": f"mailbox:{DEPARTED}"}))
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert maildir_digests(host, DEPARTED) == seeded
    sh(host, f"rm -rf {userdir}")
    # Back to the lab's date: the account is retained (receives) again.
    assert playbook("accounts.yml", "--limit", STORE).returncode == 0
