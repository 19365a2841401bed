"""The read-only monitoring checks of tests/audit, proven here on a real monitor host.

playbooks/audit.yml runs tests/audit/test_monitoring.py against deployed hosts. The edge mail
host is the lab's mail_monitor host (the default scenario has none: its audit declares these
controls not applicable), so the lab runs those same functions against it, with a `mail` built
from `edge`.
"""

from __future__ import annotations

import pytest

from tests.audit.test_monitoring import (  # noqa: F401  (collected here: the audit's checks on a monitor host)
    monitor, test_the_monitor_host_has_the_rules_loaded_and_every_exporter_up)
from tests.helpers.lab import TLS_DIR
from tests.helpers.mailhost import MailHost


@pytest.fixture(scope="module")
def mail(edge) -> MailHost:
    # never a silent skip here: this host is the lab's proof of the audit's monitoring checks
    assert "mail_monitor" in edge.mail_groups, edge.mail_groups
    return MailHost(name=edge.mail.name, host=edge.mail.host, target=edge.mail.target,
                    domains=edge.lab.domains, tls_key_file=f"{TLS_DIR}/privkey.pem", lab=edge.lab,
                    groups=edge.mail_groups)
