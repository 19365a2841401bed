"""Host controls, read-only: the kernel parameters (OS-01) and the audit rules (LOG-01).

The lab cannot load kernel parameters nor run auditd in a container
(hardening_sysctl_apply / hardening_auditd_load_rules are false there): the
files are checked everywhere; where the host's inventory keeps production's value
(a real server, audited with playbooks/audit.yml) the running kernel's values and
auditd's loaded rules are checked too, and the conformance report marks the lab's
verdicts "(lab: hardening_sysctl_apply=false ...)".
"""

from __future__ import annotations

import re

import pytest

from tests.conformance.plugin import production_path

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
