"""The `mail` fixture's value: one mail server as a test sees it.

molecule/default/tests/conftest.py builds it for each Molecule instance (with the
lab's accounts and passwords), tests/audit/conftest.py for each server that
playbooks/audit.yml audits (no account: the audit logs in nowhere).
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
    target: Target
    lab: LabData
    tls_key_file: str  # the private key the services use (the TLS role's tls_key_file)

    @property
    def release(self) -> str:
        return self.host.system_info.release
