"""Host controls (CIS Debian level 1 / dev-sec linux-baseline): kernel, logins, audit, logs, updates.

The read-only checks of the kernel parameters and the audit rules (tests/audit/test_hardening.py,
which playbooks/audit.yml runs against deployed servers) are this module's tests too.
"""

from __future__ import annotations

import uuid

import pytest

from tests.audit.test_hardening import (  # noqa: F401  (collected here: the read-only checks on this scenario's hosts)
    test_audit_rules_cover_identity_sudoers_sshd_and_mail_configuration, test_kernel_parameters_file)
from tests.helpers.lab import wait_until


@pytest.mark.control("OS-02")
def test_unneeded_kernel_modules_are_refused(mail):
    for module in ("cramfs", "udf", "usb-storage", "firewire-core", "dccp", "sctp", "rds", "tipc"):
        out = mail.host.run(f"modprobe -n -v {module}")
        assert "install /bin/false" in out.stdout, (module, out.stdout, out.stderr)


@pytest.mark.control("OS-03")
def test_no_core_dumps(mail):
    limits = mail.host.file("/etc/security/limits.d/60-mail-hardening.conf").content_string
    assert "hard    core    0" in limits
    coredump = mail.host.file("/etc/systemd/coredump.conf.d/60-mail-hardening.conf").content_string
    assert "Storage=none" in coredump and "ProcessSizeMax=0" in coredump


@pytest.mark.control("OS-04")
def test_account_and_cron_file_permissions(mail):
    expect = {"/etc/passwd": ("root", 0o644), "/etc/group": ("root", 0o644),
              "/etc/shadow": ("shadow", 0o640), "/etc/gshadow": ("shadow", 0o640)}
    for path, (group, mode) in expect.items():
        f = mail.host.file(path)
        assert (f.user, f.group, f.mode) == ("root", group, mode), path
    assert mail.host.file("/etc/cron.allow").content_string == "root\n"
    # no world-writable file outside the temporary directories and /proc, /sys, /dev
    ww = mail.host.run("find / -xdev \\( -path /proc -o -path /sys -o -path /dev -o -path /tmp -o -path /var/tmp "
                       "-o -path /run \\) -prune -o -type f -perm -0002 -print -quit").stdout.strip()
    assert ww == "", ww


@pytest.mark.control("OS-05")
def test_services_a_mail_server_does_not_run_are_absent(mail):
    for pkg in ("telnet", "rsh-client", "nis", "xinetd", "avahi-daemon", "cups", "rpcbind", "snmpd", "vsftpd"):
        assert not mail.host.package(pkg).is_installed, pkg


@pytest.mark.control("OS-06")
def test_login_banner_and_umask(mail):
    for path in ("/etc/issue", "/etc/issue.net"):
        text = mail.host.file(path).content_string
        assert "Authorised access only" in text and "ghi nhật ký" in text, path
        assert "Debian" not in text and "\\r" not in text  # no OS or kernel version
    assert "umask 027" in mail.host.file("/etc/profile.d/60-mail-umask.sh").content_string
    assert mail.host.run("bash -lc umask").stdout.strip() == "0027"
    # an idle login shell ends (read-only TMOUT); new accounts get password ageing and private homes
    assert mail.host.run("bash -lc 'echo $TMOUT; readonly -p | grep -c \" TMOUT=\"'").stdout.split() == ["900", "1"]
    defs = dict(line.split(None, 1) for line in mail.host.file("/etc/login.defs").content_string.splitlines()
                if line.strip() and not line.lstrip().startswith("#") and len(line.split()) > 1)
    assert (defs["PASS_MAX_DAYS"], defs["PASS_MIN_DAYS"], defs["UMASK"], defs["HOME_MODE"]) == ("365", "1", "027", "0750")


@pytest.mark.control("LOG-02")
def test_journal_is_persistent_for_a_year(mail):
    conf = mail.host.file("/etc/systemd/journald.conf.d/60-mail-retention.conf").content_string
    assert "Storage=persistent" in conf and "MaxRetentionSec=365day" in conf
    assert mail.host.file("/var/log/journal").is_directory
    assert mail.host.run("journalctl --header -q | grep -c 'File path: /var/log/journal'").stdout.strip() != "0"


@pytest.mark.control("LOG-03")
def test_mail_log_is_written_and_kept_twelve_months(mail):
    rotate = mail.host.file("/etc/logrotate.d/rsyslog").content_string
    block = rotate.split("/var/log/mail.log", 1)[1].split("}", 1)[0]
    assert "rotate 12" in block and "monthly" in block
    assert mail.host.service("rsyslog").is_running
    # This run's own line (a probe of an earlier run must not count), waited for:
    # logger -> journald -> rsyslog -> the file takes a moment on a loaded host.
    probe = f"mail-retention-probe-{uuid.uuid4().hex}"
    assert mail.host.run(f"logger -p mail.info -t mail-retention-probe {probe}").rc == 0
    wait_until(mail.host, f"grep -qF {probe} /var/log/mail.log", what=f"{probe} in /var/log/mail.log")
    log = mail.host.file("/var/log/mail.log")
    assert log.mode & 0o007 == 0
    # readable by the log readers' group only (rsyslog's root:adm 0640, kept by logrotate)
    assert (log.user, log.group, log.mode) == ("root", "adm", 0o640), (log.user, log.group, oct(log.mode))


@pytest.mark.control("OS-07")
def test_security_updates_are_automatic_without_reboot(mail):
    assert mail.host.package("unattended-upgrades").is_installed
    conf = mail.host.file("/etc/apt/apt.conf.d/50unattended-upgrades").content_string
    assert '"origin=Debian,codename=${distro_codename}-security,label=Debian-Security";' in conf
    assert conf.count("origin=") == 1  # the security suite only
    assert 'Automatic-Reboot "false"' in conf
    periodic = mail.host.file("/etc/apt/apt.conf.d/20auto-upgrades").content_string
    assert 'APT::Periodic::Unattended-Upgrade "1";' in periodic
    # What unattended-upgrade will read, after every apt.conf.d file is merged
    # (a stray file adding the main suite would show here). Cheaper than
    # `unattended-upgrade --dry-run` (2-4 min per host) and reads the same setting.
    dump = mail.host.run("apt-config dump Unattended-Upgrade::Origins-Pattern").stdout
    origins = [line for line in dump.splitlines() if line.startswith("Unattended-Upgrade::Origins-Pattern:: ")]
    assert origins and all("-security" in line for line in origins), dump
    assert mail.host.run("systemctl is-enabled apt-daily-upgrade.timer").stdout.strip() == "enabled"
