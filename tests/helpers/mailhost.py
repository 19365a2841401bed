"""The `mail` fixture's value: one mail server as a test sees it.

molecule/default/tests/conftest.py builds it for each Molecule instance (with the
lab's data: accounts and passwords), tests/audit/conftest.py for each server that
playbooks/audit.yml audits, from only what that playbook passes (no lab, no account:
the audit logs in nowhere). The checks of tests/audit, which both run, read only the
fields both fill: never `lab`.
"""

from __future__ import annotations

from dataclasses import dataclass

import testinfra.host

from .lab import LabData
from .mailclient import Target


@dataclass
class MailHost:
    name: str
    host: testinfra.host.Host
    target: Target  # its address, the host name it answers as, the CA file to trust
    domains: list[str]  # the mail domains it serves
    tls_key_file: str  # the private key the services use (the TLS role's tls_key_file)
    lab: LabData | None = None  # the lab's data (Molecule's suites); None in the audit
    groups: tuple[str, ...] = ()  # its inventory groups, when the run knows them (the audit)

    @property
    def known_passwords(self) -> dict[str, str]:
        """Address to password for the accounts this run knows: the lab's; none in the audit."""
        return self.lab.passwords if self.lab else {}

    def serves(self, *groups: str) -> bool:
        """Whether the host is in any of `groups` (a mail host when the run does not know its
        groups: Molecule's suites pass none, and their hosts are mail hosts)."""
        return not self.groups or bool(set(groups) & set(self.groups))

    @property
    def release(self) -> str:
        return self.host.system_info.release
