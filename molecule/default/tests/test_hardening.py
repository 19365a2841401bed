"""Host controls (CIS Debian level 1 / dev-sec linux-baseline): kernel, logins, audit, logs, updates.

The lab cannot load kernel parameters nor run auditd in a container
(hardening_sysctl_apply / hardening_auditd_load_rules are false there): the
files are checked everywhere; where the host's inventory keeps production's value
(a real server, audited with playbooks/audit.yml) the running kernel's values and
auditd's loaded rules are checked too, and the conformance report marks the lab's
verdicts "(lab: hardening_sysctl_apply=false ...)".
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.conformance.plugin import production_path
from tests.helpers.lab import wait_until

SYSCTL = {
    "net.ipv4.ip_forward": "0",
    "net.ipv4.conf.all.send_redirects": "0",
    "net.ipv4.conf.all.accept_redirects": "0",
    "net.ipv4.conf.all.accept_source_route": "0",
    "net.ipv4.conf.all.rp_filter": "1",
    "net.ipv4.conf.all.log_martians": "1",
    "net.ipv4.tcp_syncookies": "1",
    "kernel.randomize_va_space": "2",
    "kernel.kptr_restrict": "2",
    "kernel.dmesg_restrict": "1",
    "fs.suid_dumpable": "0",
    "fs.protected_symlinks": "1",
    "fs.protected_hardlinks": "1",
}


@pytest.mark.audit
@pytest.mark.control("OS-01")
def test_kernel_parameters_file(mail, evidence):
    f = mail.host.file("/etc/sysctl.d/60-mail-hardening.conf")
    assert f.user == "root" and f.mode == 0o644
    values = dict(line.split(" = ", 1) for line in f.content_string.splitlines() if " = " in line)
    for name, value in SYSCTL.items():
        assert values.get(name) == value, name
    # every line is a comment or "name = value" (sysctl's format; loading needs a host, not a container)
    lines = [line for line in f.content_string.splitlines() if line and not line.startswith("#")]
    assert all(re.fullmatch(r"[a-z0-9_.]+ = [0-9A-Za-z ._:/-]+", line) for line in lines), lines
    if not production_path(mail.name, "hardening_sysctl_apply"):
        evidence("the drop-in only: hardening_sysctl_apply is off on this host (a container cannot load it)")
        return
    # production's path: the running kernel has every value of the drop-in
    live = {name: " ".join(mail.host.run(f"sysctl -n {name}").stdout.split()) for name in values}
    wrong = {name: (live[name], values[name]) for name in values if live[name] != " ".join(values[name].split())}
    assert wrong == {}, f"loaded value differs from the drop-in (running, file): {wrong}"
    evidence(f"loaded: sysctl -n shows each of the drop-in's {len(values)} values")


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


@pytest.mark.audit
@pytest.mark.control("LOG-01")
def test_audit_rules_cover_identity_sudoers_sshd_and_mail_configuration(mail, evidence):
    f = mail.host.file("/etc/audit/rules.d/60-mail-hardening.rules")
    assert f.user == "root" and f.mode == 0o640
    rules = f.content_string
    for rule in ("-w /etc/passwd -p wa -k identity", "-w /etc/shadow -p wa -k identity",
                 "-w /etc/sudoers -p wa -k scope", "-w /etc/sudoers.d -p wa -k scope",
                 "-w /etc/ssh/sshd_config -p wa -k sshd", "-w /etc/postfix -p wa -k mail-config",
                 "-w /etc/dovecot -p wa -k mail-config", "-k time-change", "-k kernel_modules"):
        assert rule in rules, rule
    assert mail.host.package("auditd").is_installed
    # the rules compile: auditctl's own parser over every line (loading needs a kernel, not a container)
    bad = mail.host.run("grep -E '^-[wa]' /etc/audit/rules.d/60-mail-hardening.rules | grep -vE "
                        "'^-w /[^ ]+ -p [rwxa]+ -k [a-z_-]+$|^-a always,exit -F arch=b(32|64) .* -k [a-z_-]+$'").stdout
    assert bad == "", bad
    if not production_path(mail.name, "hardening_auditd_load_rules"):
        evidence("the rules file only: hardening_auditd_load_rules is off on this host (no audit netlink in a container)")
        return
    # production's path: auditd runs and the kernel holds every key of the file (auditctl -l
    # prints a watch as -w ... -k KEY, or as -a ... -F key=KEY for a directory)
    assert mail.host.service("auditd").is_running
    loaded = mail.host.run("auditctl -l")
    assert loaded.rc == 0, loaded.stderr
    want = set(re.findall(r"(?:-k |key=)([a-z_-]+)", rules))
    have = set(re.findall(r"(?:-k |key=)([a-z_-]+)", loaded.stdout))
    assert want <= have, f"keys of the rules file not loaded: {sorted(want - have)}"
    evidence(f"loaded: auditctl -l holds all {len(want)} keys of the rules file ({len(loaded.stdout.splitlines())} rules)")


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
