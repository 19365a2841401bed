"""Bad input stops the play before any host is changed, naming what is wrong."""

from __future__ import annotations

import pytest

from tests.helpers.labdata import lab_mail
from tests.helpers.preflight import stopped_before_any_host

# The lab's accounts and aliases as literal lists (rendered from its directory, as
# the mail_* layer does): a test overrides them with one bad entry added.
_LAB = lab_mail()
LAB = {"mail_accounts": _LAB["accounts"], "mail_aliases": _LAB["aliases"]}


def test_good_input_passes_the_checks_and_only_then_reaches_for_the_host(run_site):
    result = run_site()
    out = result.stdout + result.stderr
    assert "PLAY [Deploy the mail hosts]" in out, out[-3000:]
    assert "UNREACHABLE" in out  # the checks passed; the fake host is then (rightly) unreachable


def test_host_only_in_mail_backup_passes_the_checks(run_site):
    # no Postfix, Dovecot, ClamAV or TLS input is needed; hardening, SSH, fail2ban and firewall are checked
    result = run_site(groups=("mail_backup",))
    out = result.stdout + result.stderr
    assert "PLAY [Deploy the mail hosts]" in out and "UNREACHABLE" in out, out[-3000:]
    assert "TASK [firewall : Check the input of the firewall role]" in out and "TASK [ssh : Check the input of the ssh role]" in out, out[-3000:]
    assert "TASK [postfix :" not in out and "TASK [dovecot :" not in out and "TASK [tls :" not in out, out[-3000:]


def test_wrong_type(run_site):
    out = stopped_before_any_host(run_site({"postfix_message_size_limit": "fifty megabytes"}))
    # the role's argument_specs (validate_argument_spec) stops it, naming the variable and the type
    assert ("argument 'postfix_message_size_limit' is of type str and we were unable to convert to int"
            in out), out[-3000:]


def test_unknown_choice(run_site):
    out = stopped_before_any_host(run_site({"mail_tls_profile": "old"}))
    # the mail role's argument_specs (the first check of all) names the inventory's variable, the choices
    # and the value
    assert "value of mail_tls_profile must be one of: intermediate, modern, got: old" in out, out[-3000:]


def test_missing_secret(run_site):
    out = stopped_before_any_host(run_site({"vault_tls_internal_ca_passphrase": ""}))
    assert ("tls_internal_ca_passphrase is missing or shorter than 12 characters: set it from vault "
            "(vault_tls_internal_ca_passphrase) when tls_mode is internal_ca" in out), out[-3000:]


def test_host_name_outside_the_internal_ca_name_constraints(run_site):
    # the CA may certify only the served domains: a host name outside them is refused before the CA is made
    out = stopped_before_any_host(run_site({"tls_internal_ca_permitted_domains": ["other.gov.vn"]}))
    assert ("tls_internal_ca_permitted_domains ['other.gov.vn'] must list the served domains (lowercase domain names; "
            "the internal CA may certify only them and their subdomains), and mail.gialai.gov.vn of mail.gialai.gov.vn "
            "(tls_hostname, tls_subject_alt_names) must lie inside them" in out), out[-3000:]


def test_malformed_domain(run_site):
    out = stopped_before_any_host(run_site({"mail_domains": ["gialai..gov.vn"]}))
    # the first check to read the domains (the TLS role's: the internal CA's name constraints are the
    # served domains) names the malformed one
    assert "tls_internal_ca_permitted_domains ['gialai..gov.vn'] must list the served domains" in out, out[-3000:]


@pytest.mark.control("ACC-03")
def test_mailbox_outside_the_served_domains(run_site):
    accounts = LAB["mail_accounts"] + [{"address": "nguoila@example.org", "password": "Khach#Moi2026x"}]
    out = stopped_before_any_host(run_site(mail_overrides={"mail_accounts": accounts}))
    assert ("postfix_mailboxes ['nguoila@example.org']: malformed or outside the served domains (gialai.gov.vn)"
            in out), out[-3000:]


@pytest.mark.control("ACC-03")
def test_mailbox_without_password(run_site):
    accounts = LAB["mail_accounts"] + [{"address": "quenmatkhau@gialai.gov.vn"}]
    out = stopped_before_any_host(run_site(mail_overrides={"mail_accounts": accounts}))
    assert ("mailbox 'quenmatkhau@gialai.gov.vn' has no password: set password (from vault) or password_hash"
            in out), out[-3000:]


@pytest.mark.control("ACC-03")
@pytest.mark.parametrize("weak", ["abcdefgh", "12345678", "Gialai@123"])
def test_weak_password_names_the_account_not_the_password(run_site, weak):
    accounts = LAB["mail_accounts"] + [{"address": "yeu@gialai.gov.vn", "password": weak}]
    out = stopped_before_any_host(run_site(mail_overrides={"mail_accounts": accounts}))
    assert "password of 'yeu@gialai.gov.vn' is too weak" in out, out[-3000:]
    assert weak not in out


@pytest.mark.control("ACC-03")
def test_malformed_address(run_site):
    accounts = LAB["mail_accounts"] + [{"address": "Nguyễn Văn A@gialai.gov.vn", "password": "Hop#Le2026abc"}]
    out = stopped_before_any_host(run_site(mail_overrides={"mail_accounts": accounts}))
    assert ("postfix_mailboxes ['Nguyễn Văn A@gialai.gov.vn']: malformed or outside the served domains"
            in out), out[-3000:]


def test_alias_without_targets(run_site):
    aliases = [{"address": "rong@gialai.gov.vn", "to": []}]
    out = stopped_before_any_host(run_site(mail_overrides={"mail_aliases": aliases}))
    assert ("alias 'rong@gialai.gov.vn' is malformed, outside the served domains, or has no valid 'to' list"
            in out), out[-3000:]


@pytest.mark.control("SMTP-13")
def test_a_public_alias_that_would_open_a_closed_list(run_site):
    aliases = LAB["mail_aliases"] + [{"address": "congkhai@gialai.gov.vn", "to": ["lanhdao@gialai.gov.vn"],
                                      "posting": "public"}]
    out = stopped_before_any_host(run_site(mail_overrides={"mail_aliases": aliases}))
    assert ("public alias 'congkhai@gialai.gov.vn' reaches the non-public ['lanhdao@gialai.gov.vn']: port 25 would "
            "open them to the Internet (make them public or drop the target)" in out), out[-3000:]


@pytest.mark.control("EDGE-12")
def test_a_blocklist_without_a_reply_filter(run_site):
    out = stopped_before_any_host(run_site({"postfix_postscreen_dnsbl_sites": ["zen.spamhaus.org*3"]}))
    assert ("postfix_postscreen_dnsbl_sites ['zen.spamhaus.org*3']: each needs a reply filter, "
            "e.g. zen.spamhaus.org=127.0.0.[2..11]*3" in out), out[-3000:]


@pytest.mark.control("SMTP-02")
def test_open_relay_networks_that_add_up_to_the_internet(run_site):
    # each half alone is not 0.0.0.0/0; together they are the whole IPv4 Internet
    out = stopped_before_any_host(run_site({"postfix_mynetworks": ["127.0.0.1/32", "0.0.0.0/1", "128.0.0.0/1"]}))
    assert ("postfix_mynetworks would make an open relay or is malformed: '0.0.0.0/1' is wider than /24 "
            "(2147483648 addresses would relay without authentication); '128.0.0.0/1' is wider than /24 "
            "(2147483648 addresses would relay without authentication)" in out), out[-3000:]


def test_postmaster_that_is_not_a_mailbox(run_site):
    out = stopped_before_any_host(run_site({"postfix_postmaster": "khongco@gialai.gov.vn"}))
    assert "postfix_postmaster 'khongco@gialai.gov.vn' is not one of postfix_mailboxes" in out, out[-3000:]


def test_production_example_with_placeholders_is_refused(run_site):
    out = stopped_before_any_host(run_site(inventory="production"))
    assert "tls_internal_ca_passphrase is missing or shorter than 12 characters" in out


def test_clamd_without_any_signature_source(run_site):
    out = stopped_before_any_host(run_site({"clamav_freshclam_enabled": False, "clamav_signature_files": []}))
    assert ("clamd would have no signature database and could not scan (mail would wait forever): "
            "set clamav_freshclam_enabled: true" in out), out[-3000:]


def test_missing_signature_file_on_the_controller(run_site):
    out = stopped_before_any_host(run_site({"clamav_signature_files": ["/nonexistent/lab.hdb"]}))
    assert "clamav_signature_files: missing on the controller: ['/nonexistent/lab.hdb'];" in out, out[-3000:]


def test_scan_limit_smaller_than_the_largest_accepted_message(run_site):
    out = stopped_before_any_host(run_site({"clamav_stream_max_length": 10485760}))
    # site.yml's join check (the clamav role's own limits agree with each other)
    assert ("scan limits too small: need clamav_stream_max_length (10485760) >= postfix_message_size_limit "
            "(52428800)" in out), out[-3000:]


def test_postfix_not_wired_to_the_local_milter(run_site):
    out = stopped_before_any_host(run_site({"postfix_milters": []}))
    assert ('clamav-milter listens on inet:127.0.0.1:7357 but Postfix does not use it: '
            'set postfix_milters: ["inet:127.0.0.1:7357"] (now [])' in out), out[-3000:]


@pytest.mark.control("ACC-03")
def test_malformed_quota_names_the_account(run_site):
    accounts = LAB["mail_accounts"] + [{"address": "thuky@gialai.gov.vn", "password": "Hop#Le2026abc",
                                        "quota": "2 GB"}]
    out = stopped_before_any_host(run_site(mail_overrides={"mail_accounts": accounts}))
    assert "mailbox 'thuky@gialai.gov.vn' has quota '2 GB': use a size such as 500M, 2G or 1T" in out, out[-3000:]


@pytest.mark.control("SIEVE-02")
def test_out_of_office_periods_out_of_order(run_site):
    out = stopped_before_any_host(run_site({"dovecot_sieve_vacation_min_period": "14d",
                                            "dovecot_sieve_vacation_max_period": "7d"}))
    assert ("the out-of-office periods must be whole days with dovecot_sieve_vacation_min_period (14d) <= "
            "dovecot_sieve_vacation_default_period (7d) <= dovecot_sieve_vacation_max_period (7d)" in out), out[-3000:]


def test_malformed_policy_service(run_site):
    out = stopped_before_any_host(run_site({"postfix_recipient_policy_services": ["127.0.0.1:12340"]}))
    assert ("postfix_recipient_policy_services ['127.0.0.1:12340']: each must be inet:host:port or unix:/path"
            in out), out[-3000:]


def test_dkim_selector_with_invalid_characters(run_site):
    out = stopped_before_any_host(run_site({"dkim_selector": "s_2026/11"}))
    assert ("dkim_selector 's_2026/11' must be one DNS label of lower-case letters, digits and hyphens"
            in out), out[-3000:]


def test_rate_limit_that_is_not_a_positive_integer(run_site):
    out = stopped_before_any_host(run_site({"postfix_ratelimit_classes": {
        "default": {"messages": 0, "recipients": 300}, "bulk": {"messages": "many", "recipients": 10}}}))
    assert ("postfix_ratelimit: " in out
            and "messages and recipients must be positive integers (wrong in: ['bulk', 'default'])" in out), out[-3000:]


def test_unknown_account_class(run_site):
    out = stopped_before_any_host(run_site({"postfix_ratelimit_accounts": {"vanphong@gialai.gov.vn": "vip"}}))
    assert "unknown account class for: ['vanphong@gialai.gov.vn']" in out, out[-3000:]


def test_dane_without_a_dnssec_resolver(run_site):
    out = stopped_before_any_host(run_site({"postfix_smtp_dane": True}))
    assert ("postfix_smtp_dane needs postfix_dnssec_resolver: true (a local DNSSEC-validating resolver)"
            in out), out[-3000:]


def test_dkim_not_wired_into_postfix(run_site):
    out = stopped_before_any_host(run_site({"postfix_submission_milters": []}))
    assert ("OpenDKIM listens on inet:127.0.0.1:8891 but Postfix does not use it: add it to "
            "postfix_submission_milters (signing)" in out), out[-3000:]


def test_dmarc_before_dkim_on_port_25(run_site):
    out = stopped_before_any_host(run_site({"postfix_inbound_milters": ["inet:127.0.0.1:8893", "inet:127.0.0.1:8891"]}))
    assert ("OpenDMARC (inet:127.0.0.1:8893) must be in postfix_inbound_milters after OpenDKIM (inet:127.0.0.1:8891); "
            "now ['inet:127.0.0.1:8893', 'inet:127.0.0.1:8891']" in out), out[-3000:]


def test_firewall_without_admin_networks_over_ssh(run_site):
    out = stopped_before_any_host(run_site({"mail_admin_networks": []}))
    assert ("firewall_admin_networks is empty while Ansible connects over SSH: the firewall would refuse "
            "SSH from everywhere" in out), out[-3000:]


def test_bastion_outside_the_admin_networks(run_site):
    # the firewall admits SSH only from mail_admin_networks: this bastion would be locked out
    out = stopped_before_any_host(run_site({"mail_admin_bastions": ["10.88.0.1/32", "192.0.2.7/32"],
                                             "mail_admin_networks": ["10.88.0.0/24"]}))
    assert "mail_admin_bastions ['192.0.2.7/32']: not inside mail_admin_networks" in out, out[-3000:]


def test_admin_network_that_is_not_a_cidr(run_site):
    out = stopped_before_any_host(run_site({"mail_admin_networks": ["10.10.0.0"]}))
    assert "not a network in CIDR form (address/prefix): ['10.10.0.0'] (firewall_admin_networks" in out, out[-3000:]


@pytest.mark.control("SSH-08")
@pytest.mark.parametrize("value, message", [
    ("10.88.0.1/32", "must be a list of addresses or CIDR networks without host bits set: a string was given: "
                     "10.88.0.1/32"),
    (["10.88.0.1/24"], "'10.88.0.1/24' has host bits set (the network is 10.88.0.0/24)"),
])
def test_ssh_penalty_exemption_that_is_not_a_list_of_networks(run_site, value, message):
    # sshd would take a malformed list whole or not at all: a bastion locked out by its penalties
    out = stopped_before_any_host(run_site({"ssh_penalty_exempt": value}))
    assert message in out, out[-3000:]


def test_ssh_admin_key_that_is_not_a_public_key(run_site):
    admins = [{"name": "mailadmin", "keys": ["-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAA"]}]
    out = stopped_before_any_host(run_site({"ssh_admins": admins}))
    assert ("ssh_admins entry 'mailadmin': needs a login name and a list of OpenSSH public keys "
            '("ssh-ed25519 AAAA... comment"); a private key or anything else is refused' in out), out[-3000:]


def test_ansible_account_that_is_not_an_ssh_admin(run_site):
    admins = [{"name": "someoneelse", "keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOBCopj3F4PA+9KNa5J8xH8Q48PfRQk4NOucPVbSyFXr x"]}]
    out = stopped_before_any_host(run_site({"ssh_admins": admins}))
    assert ("this run connects over SSH as 'mailadmin', who is not in ssh_admins (['someoneelse'])"
            in out), out[-3000:]


def test_sysctl_value_of_an_unknown_type(run_site):
    out = stopped_before_any_host(run_site({"hardening_sysctl_extra": {"net.ipv4.tcp_syncookies": [1, 2]}}))
    assert "hardening_sysctl / hardening_sysctl_extra: 'net.ipv4.tcp_syncookies' = [1, 2]" in out, out[-3000:]
    assert ("the name must be dotted (net.ipv4.tcp_syncookies) and the value a number or a plain string"
            in out), out[-3000:]


# Backups (issue #5): the lab inventory of these tests has no mail_backup host, so
# backups are off unless a case turns them on.
def test_backup_without_any_repository(run_site):
    out = stopped_before_any_host(run_site({"backup_enabled": True, "backup_repositories": []}))
    assert ("backup_enabled is true but backup_repositories is empty: configure at least one repository"
            in out), out[-3000:]


def test_backup_repository_without_restic_password(run_site):
    repos = [{"name": "primary", "url": "/srv/restic", "password": ""}]
    out = stopped_before_any_host(run_site({"backup_enabled": True, "backup_repositories": repos}))
    assert ("backup repository primary: the restic password is missing or shorter than 12 characters"
            in out), out[-3000:]


def test_backup_host_not_in_the_inventory(run_site):
    repos = [{"name": "primary", "server": "backup.gialai.gov.vn", "password": "du-dai-va-bi-mat-2026"}]
    out = stopped_before_any_host(run_site({"backup_enabled": True, "backup_repositories": repos}))
    assert ("backup repository primary: backup host backup.gialai.gov.vn is not in the mail_backup group "
            "of the inventory" in out), out[-3000:]


def test_backup_lab_repositories_without_a_backup_host(run_site):
    # The lab's repositories name groups['mail_backup'][0]; with no such host there is nowhere to go.
    out = stopped_before_any_host(run_site({"backup_enabled": True}))
    assert ("backup repository primary: needs exactly one of server (a host of the mail_backup group) or url"
            in out), out[-3000:]


def test_backup_host_whose_sshd_would_refuse_the_backup_accounts(run_site):
    # The ssh role's AllowGroups must list the backup accounts' group (lab: group_vars/mail_backup/ssh.yml).
    out = stopped_before_any_host(run_site({"ssh_allow_groups_extra": []}, groups=("mail_backup",)))
    assert ("backup host mail.gialai.gov.vn: ssh_allow_groups_extra must contain mail-backup-sftp"
            in out), out[-3000:]


def test_rebuild_without_the_backup_hosts_is_refused(run_site):
    # A rebuilt store has a new address: the backup host's firewall must be re-run in the same run.
    repos = [{"name": "primary", "server": "backup.gialai.gov.vn", "password": "du-dai-va-bi-mat-2026"}]
    out = stopped_before_any_host(run_site({"backup_enabled": True, "backup_repositories": repos},
                                            playbook="rebuild.yml"))
    assert ("rebuild: the backup host(s) backup.gialai.gov.vn of mail.gialai.gov.vn are not in this run"
            in out and "run with --limit mail.gialai.gov.vn:mail_backup" in out), out[-3000:]


# Restores by agency (backup_agencies: the lab's VP and its sub-unit VP-LT).
@pytest.mark.control("BAK-08")
def test_restore_of_an_unknown_agency_names_it_and_the_known_ones(run_site):
    out = stopped_before_any_host(run_site({"backup_restore_scope": "agency:NOPE"}, playbook="restore.yml"))
    assert ("restore: unknown agency NOPE (backup_restore_scope agency:NOPE); nothing was restored. "
            "Known agencies: VP, VP-LT" in out), out[-3000:]


def test_restore_of_an_agency_without_mailboxes_is_refused(run_site):
    agencies = {"VP": ["vanphong@gialai.gov.vn"], "VP-LT": []}
    out = stopped_before_any_host(run_site({"backup_restore_scope": "agency:vp-lt", "backup_agencies": agencies},
                                            playbook="restore.yml"))
    assert ("restore: agency VP-LT has no mailboxes (backup_restore_scope agency:vp-lt); nothing was restored. "
            "Known agencies: VP, VP-LT" in out), out[-3000:]


def test_restore_of_a_known_agency_in_any_case_passes_the_checks(run_site):
    result = run_site({"backup_restore_scope": "agency:vp-lt"}, playbook="restore.yml")
    out = result.stdout + result.stderr
    assert "UNREACHABLE" in out and "unknown agency" not in out, out[-3000:]  # checks passed; then the host


_URL_REPO = {"backup_enabled": True,
             "backup_repositories": [{"name": "primary", "url": "/srv/restic", "password": "du-dai-va-bi-mat-2026"}]}


@pytest.mark.parametrize("overrides, words", [
    ({"mail_agency_parents": {"VP": None, "VP-LT": "VP-XX"}}, "agency 'VP-LT' has unknown parent 'VP-XX'; known: VP, VP-LT"),
    ({"mail_agency_parents": {"VP": "VP-LT", "VP-LT": "VP"}}, "agency tree has a cycle: VP -> VP-LT -> VP"),
    ({"mail_accounts": LAB["mail_accounts"] + [{"address": "thuky@gialai.gov.vn", "password": "Hop#Le2026abc",
                                                 "agency": "SYT"}]},
     "account 'thuky@gialai.gov.vn' has unknown agency 'SYT'; known: VP, VP-LT"),
    ({"backup_agencies": {"VP": "vanphong@gialai.gov.vn"}},
     "backup_agencies must map each agency code to a list of mailbox addresses"),
])
def test_bad_agency_tree_stops_the_preflight_when_backups_are_on(run_site, overrides, words):
    out = stopped_before_any_host(run_site(_URL_REPO, mail_overrides=overrides))
    assert words in out, out[-3000:]


def test_send_as_grant_with_an_invalid_login(run_site):
    out = stopped_before_any_host(run_site({"postfix_sender_grants": {"vanphong@gialai.gov.vn": ["not an address"]}}))
    assert ("postfix_sender_grants: 'vanphong@gialai.gov.vn' must be an address in the served domains with a list "
            'of valid login addresses allowed to send as it (got ["not an address"])' in out), out[-3000:]
