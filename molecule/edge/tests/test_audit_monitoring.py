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
from conftest import audited_mail_host


@pytest.fixture(scope="module")
def mail(edge):
    return audited_mail_host(edge, "mail_monitor")  # the lab's proof of the audit's monitoring checks
