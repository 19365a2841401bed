"""The webmail's input is checked before any host changes (roles/webmail tasks/validate.yml)."""

from __future__ import annotations

import pytest

from tests.helpers.preflight import stopped_before_any_host

WEBMAIL_HOST = ("mail_mx", "mail_store", "mail_webmail")


@pytest.mark.control("WEB-13")
def test_a_short_webmail_secret_is_refused_naming_the_vault_variable(run_site):
    out = stopped_before_any_host(run_site({"vault_webmail_des_key": "short-key"}, groups=WEBMAIL_HOST))
    assert ("webmail_des_key is missing or shorter than 24 characters: set vault_webmail_des_key in the vault"
            in out), out[-3000:]
    assert "short-key" not in out  # the secret itself is never printed


def test_the_lab_webmail_host_passes_the_checks(run_site):
    result = run_site(groups=WEBMAIL_HOST)
    out = result.stdout + result.stderr
    assert "TASK [webmail : Check the input of the webmail role]" in out, out[-3000:]
    assert "PLAY [Deploy the mail hosts]" in out and "UNREACHABLE" in out, out[-3000:]


def test_a_hsts_shorter_than_a_year_is_refused(run_site):
    out = stopped_before_any_host(run_site({"webmail_hsts_max_age": 86400}, groups=WEBMAIL_HOST))
    assert "webmail_hsts_max_age (86400) must be at least 31536000 (one year)" in out, out[-3000:]


@pytest.mark.control("BAK-14")
def test_a_webmail_host_outside_the_stores_is_refused_while_backups_are_on(run_site):
    """The backup client runs on mail_store hosts only: a webmail host elsewhere would back up none of its users'
    contacts, identities and preferences."""
    out = stopped_before_any_host(run_site({"backup_enabled": True}, groups=("mail_mx", "mail_webmail")))
    assert ("webmail host mail.gialai.gov.vn is not in mail_store: the backup client runs only on the stores, so its "
            "Roundcube database (contacts, identities, preferences) would be in no backup" in out), out[-3000:]


@pytest.mark.control("WEB-14")
def test_fail2ban_without_loopback_in_ignoreip_is_refused(run_site):
    """Every webmail user reaches Dovecot and Postfix from 127.0.0.1: banning it would lock them all out."""
    out = stopped_before_any_host(run_site({"fail2ban_ignoreip": ["10.10.0.5/32"]}, groups=WEBMAIL_HOST))
    assert ("fail2ban_ignoreip must hold the loopback addresses (127.0.0.1/8 and ::1): missing ['127.0.0.1', '::1']"
            in out), out[-3000:]


@pytest.mark.control("WEB-14")
def test_a_wide_network_trusted_to_name_its_clients_is_refused(run_site):
    """A trusted host may claim any client address for its logins: hosts, never a /16."""
    out = stopped_before_any_host(run_site({"dovecot_login_trusted_networks": ["127.0.0.1/32", "10.20.0.0/16"]},
                                           groups=WEBMAIL_HOST))
    assert ("dovecot_login_trusted_networks: '10.20.0.0/16' is wider than /24 (65536 addresses)" in out), out[-3000:]


@pytest.mark.control("WEB-17")
@pytest.mark.parametrize("playbook", ["site.yml", "accounts.yml"])
def test_an_administrators_reset_of_an_unknown_mailbox_is_refused(run_site, playbook):
    """A typo in a reset would silently reset nobody: it stops the run, naming the address."""
    out = stopped_before_any_host(run_site({"mail_password_resets": ["locnv@gialai.gov.vn", "lcnv@gialai.gov.vn"]},
                                           groups=WEBMAIL_HOST, playbook=playbook))
    assert "dovecot_password_resets ['lcnv@gialai.gov.vn']: not a mailbox of this store" in out, out[-3000:]


@pytest.mark.control("WEB-15")
def test_the_password_change_on_a_webmail_host_without_the_store_is_refused(run_site):
    """Roundcube's password plugin talks to mail-password on 127.0.0.1: a webmail host that is no store has none."""
    out = stopped_before_any_host(run_site({"backup_enabled": False, "webmail_password_enabled": True},
                                           groups=("mail_mx", "mail_webmail")))
    assert ("webmail_password_enabled on mail.gialai.gov.vn: the password plugin talks to mail-password on "
            "127.0.0.1:106, so this host must be a mail_store host" in out), out[-3000:]


def test_an_imap_process_reuse_of_zero_is_refused(run_site):
    """0 is "unlimited" to Dovecot 2.3 and invalid to 2.4: refused, with the range."""
    out = stopped_before_any_host(run_site({"dovecot_imap_process_reuse": 0}, groups=WEBMAIL_HOST))
    assert ("dovecot_imap_process_reuse (0) must be a whole number from 1 (a new imap process for every "
            "session) to 10000" in out), out[-3000:]


@pytest.mark.control("WEB-19")
@pytest.mark.parametrize("days", [10, 14])
def test_a_maximum_password_age_inside_its_reminder_window_is_refused(run_site, days):
    """An age of 14 days or less would remind every account on the day its password is first seen."""
    out = stopped_before_any_host(run_site({"mail_password_max_age_days": days}, groups=WEBMAIL_HOST))
    assert (f"dovecot_password_max_age_days ({days}) must be 0 (off) or a number of days greater than "
            "dovecot_password_reminder_days (14, 1 or more)" in out), out[-3000:]


def test_a_maximum_password_age_that_is_no_number_is_refused_naming_the_variable(run_site):
    out = stopped_before_any_host(run_site({"mail_password_max_age_days": "half a year"}, groups=WEBMAIL_HOST))
    assert ("argument 'mail_password_max_age_days' is of type str and we were unable to convert to int"
            in out), out[-3000:]


@pytest.mark.control("WEB-20")
def test_postgresql_without_a_strong_database_password_is_refused_naming_the_vault_variable(run_site):
    out = stopped_before_any_host(run_site(
        {"webmail_db_type": "pgsql", "vault_webmail_db_password": "short-db-secret"}, groups=WEBMAIL_HOST))
    assert ("webmail_db_type pgsql needs webmail_db_password, missing or shorter than 24 characters: set "
            "vault_webmail_db_password in the vault" in out), out[-3000:]
    assert "short-db-secret" not in out


def test_an_unknown_database_type_is_refused_by_the_argument_spec(run_site):
    out = stopped_before_any_host(run_site({"webmail_db_type": "mysql"}, groups=WEBMAIL_HOST))
    assert "value of webmail_db_type must be one of: sqlite, pgsql, got: mysql" in out, out[-3000:]
