"""Roundcube on PostgreSQL (WEB-20, issue #19): webmail_db_type: pgsql (group_vars/edge_mail).

Every browser test of this scenario runs on this database. These tests show what is particular to
it: Roundcube's rows are in PostgreSQL (a user who logs in over HTTPS is a row there), the server
answers on loopback only and only to the password, PHP's user cannot act as the database's
superuser, and the dump webmail-backup-db makes before each backup brings a contact back through the
role's restore entry point (what playbooks/rebuild.yml runs after the snapshot is back).
"""

from __future__ import annotations

import pytest

from tests.helpers.lab import changed_counts, run_site
from tests.helpers.webmail import Browser, add_contact, contact_shown, contacts, request_token

USER = "hoatt@gialai.gov.vn"
DB, DB_USER = "roundcube", "roundcube"
COPY = "/var/backups/webmail/roundcube.pgdump"
CONTACT = {"firstname": "Lê Văn", "surname": "Khôi Phục", "email": "khoi.phuc@partner.example"}
RESTORE = "molecule/edge/webmail-restore.yml"


def sql(host, query: str, db: str = DB) -> str:
    """A query as PostgreSQL's superuser over the local socket (peer: only root through runuser)."""
    r = host.run("cd / && runuser -u postgres -- psql -X -v ON_ERROR_STOP=1 -d %s -tAc %s", db, query)
    assert r.rc == 0, r.stderr
    return r.stdout.strip()


def session(edge) -> tuple[Browser, str]:
    b = Browser(edge.mail.target.address, edge.mail.hostname, edge.mail.target.tls_context())
    answer = b.login(USER, edge.mail.password(USER))
    assert answer.status == 302, (answer.status, answer.body[:2000])
    return b, request_token(b)


def assert_listed(edge, contact: dict) -> None:
    """A new browser session lists `contact` in the address book (the database holds it)."""
    b, token = session(edge)
    try:
        listed, vcards = contacts(b, token)
        assert contact_shown(listed, vcards, contact), listed + "\n" + vcards
    finally:
        b.close()


@pytest.mark.control("WEB-20")
def test_roundcube_keeps_its_users_in_postgresql_owned_by_its_own_role(edge, evidence):
    host = edge.mail.host
    dsn = host.run("grep db_dsnw /etc/roundcube/config.inc.php").stdout
    assert "'pgsql://roundcube:" in dsn and "@127.0.0.1/roundcube'" in dsn, "no PostgreSQL DSN"
    assert not host.file("/var/lib/roundcube/db/roundcube.sqlite").exists
    config = host.file("/etc/roundcube/config.inc.php")
    assert (config.user, config.group, config.mode) == ("root", "www-data", 0o640)
    b, _ = session(edge)
    b.close()
    assert sql(host, f"SELECT count(*) FROM users WHERE username = '{USER}'") == "1"
    # every table is the role's (the schema was loaded as it), none the superuser's
    owners = sql(host, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
    assert owners == DB_USER, owners
    evidence(f"{USER} logged in over HTTPS is a row of PostgreSQL's {DB}.users; the tables belong to {owners}")


@pytest.mark.control("WEB-20")
def test_postgresql_answers_on_loopback_only_and_only_to_the_password(edge, evidence):
    host = edge.mail.host
    listening = host.run("ss -Htln 'sport = :5432'").stdout.split("\n")
    local = sorted(line.split()[3].rsplit(":", 1)[0] for line in listening if line.strip())
    assert local and set(local) <= {"127.0.0.1", "[::1]"}, local
    # from another host of the network: nothing answers on 5432
    probe = edge.partner.host.run(
        "python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], 5432), 5)' %s",
        edge.mail.target.address)
    assert probe.rc != 0 and ("refused" in probe.stderr or "timed out" in probe.stderr), probe.stderr
    wrong = host.run("cd / && PGPASSWORD=not-the-password psql -X -h 127.0.0.1 -U %s -d %s -tAc 'SELECT 1'",
                     DB_USER, DB)
    assert wrong.rc != 0 and "password authentication failed" in wrong.stderr, wrong.stderr
    # PHP-FPM's user (www-data) reaches the database only as Roundcube's role, never as its superuser
    peer = host.run("cd / && runuser -u www-data -- psql -X -U postgres -d %s -tAc 'SELECT 1'", DB)
    assert peer.rc != 0 and "authentication failed" in peer.stderr, peer.stderr
    evidence(f"5432 listens on {', '.join(local)}; {edge.partner.name} cannot connect; a wrong password over "
             "127.0.0.1 and www-data as postgres are refused")


@pytest.mark.control("WEB-20")
def test_a_contact_deleted_after_the_backup_comes_back_from_the_dump(edge, evidence):
    host = edge.mail.host
    b, token = session(edge)
    try:
        assert not contact_shown(*contacts(b, token), CONTACT), "the contact exists before it is made"
        add_contact(b, token, CONTACT)
        assert contact_shown(*contacts(b, token), CONTACT)
        made = host.run("/usr/local/sbin/webmail-backup-db")
        assert made.rc == 0, made.stderr
        copy = host.file(COPY)
        assert (copy.user, copy.mode) == ("root", 0o600) and host.file("/var/backups/webmail").mode == 0o700
        listing = host.run("pg_restore --list %s", COPY)
        assert listing.rc == 0 and "TABLE DATA public contacts" in listing.stdout, listing.stderr
        # the loss: the contact's row is gone from the live database
        sql(host, f"DELETE FROM contacts WHERE email = '{CONTACT['email']}'")
        assert not contact_shown(*contacts(b, token), CONTACT)
    finally:
        b.close()
    restored = run_site(edge.mail.name, {}, "all", playbook=RESTORE)
    assert restored.returncode == 0, restored.stdout[-4000:]
    assert changed_counts(restored.stdout).get(edge.mail.name, 0) > 0, restored.stdout[-2000:]
    assert sql(host, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'") == DB_USER
    assert host.service("php8.4-fpm").is_running
    assert_listed(edge, CONTACT)
    evidence(f"webmail-backup-db dumped {DB} ({copy.size} bytes, root 0600); a contact deleted afterwards is "
             "listed in Roundcube again after the role's restore (webmail-restore.yml)")


def fpm_started(host) -> str:
    """PHP-FPM's start time (monotonic): unchanged means it was never stopped."""
    return host.run("systemctl show -p ActiveEnterTimestampMonotonic --value php8.4-fpm").stdout.strip()


@pytest.mark.control("WEB-20")
def test_a_copy_cut_short_is_refused_before_anything_is_stopped(edge, evidence):
    """pg_restore loads a custom-format dump cut short after its table of contents without an error,
    leaving rows out (measured: a dump cut to 66-95 % of its size restores "successfully"). The backup
    command writes the copy's SHA-256 beside it; the restore refuses a copy that is not that file
    before it stops anything: PHP-FPM keeps running, the database keeps a contact made before."""
    host = edge.mail.host
    contact = {"firstname": "Trần", "surname": "Còn Nguyên", "email": "con.nguyen@partner.example"}
    b, token = session(edge)
    try:
        add_contact(b, token, contact)
        made = host.run("/usr/local/sbin/webmail-backup-db")
        assert made.rc == 0, made.stderr
        digest = host.file(COPY + ".sha256")
        assert (digest.user, digest.mode) == ("root", 0o600)
        assert digest.content_string.strip() == host.run("sha256sum < %s", COPY).stdout.split()[0]
        size = host.file(COPY).size
        # the copy loses its last third; its table of contents still lists Roundcube's tables
        cut = host.run("truncate -s %s %s && pg_restore --list %s | grep -c ' TABLE .* users '",
                       str(size * 2 // 3), COPY, COPY)
        assert cut.rc == 0 and int(cut.stdout) >= 1, (cut.stdout, cut.stderr)
        before = fpm_started(host)
        refused = run_site(edge.mail.name, {}, "all", playbook=RESTORE)
        assert refused.returncode != 0, refused.stdout[-3000:]
        assert "does not match the SHA-256 its backup command wrote beside it" in refused.stdout, refused.stdout[-3000:]
        assert "Stop PHP-FPM" not in refused.stdout, refused.stdout[-3000:]
        assert fpm_started(host) == before, "PHP-FPM was restarted by a refused restore"
    finally:
        b.close()
        host.run("/usr/local/sbin/webmail-backup-db")  # a sound copy again for whatever runs next
    assert_listed(edge, contact)
    evidence(f"a copy cut to 2/3 of {size} bytes (its table of contents still listed): the restore refused it "
             "by its SHA-256 before stopping anything; PHP-FPM never restarted; a contact made before still listed")


@pytest.mark.control("WEB-20")
def test_a_restore_that_fails_after_php_fpm_stopped_starts_it_again(edge, evidence):
    """A failure between stopping PHP-FPM and starting it (here the restore told to give the database to a
    role that does not exist, as after a renamed webmail_db_user): the run fails naming the step, no
    half-restored database is left, PHP-FPM runs again and the live database is the one it had."""
    host = edge.mail.host
    assert host.run("/usr/local/sbin/webmail-backup-db").rc == 0
    users = sql(host, "SELECT count(*) FROM users")
    failed = run_site(edge.mail.name, {"webmail_db_user": "no_such_role"}, "all", playbook=RESTORE)
    assert failed.returncode != 0, failed.stdout[-3000:]
    assert 'failed at "Restore the dump as the database' in failed.stdout, failed.stdout[-3000:]
    assert 'role "no_such_role" does not exist' in failed.stdout, failed.stdout[-3000:]
    assert host.service("php8.4-fpm").is_running, "PHP-FPM left stopped by the failed restore"
    assert sql(host, "SELECT count(*) FROM pg_database WHERE datname = 'roundcube.restore'", db="postgres") == "0"
    assert sql(host, "SELECT count(*) FROM users") == users
    b, _ = session(edge)  # a login works: PHP-FPM serves the database it had
    b.close()
    evidence("restore with a database role that does not exist: failed at pg's CREATE DATABASE after PHP-FPM "
             f"stopped; PHP-FPM runs again, no roundcube.restore left, the {users} users of the live database kept, "
             "a login over HTTPS works")
