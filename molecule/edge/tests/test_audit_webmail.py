"""The read-only webmail checks of tests/audit, proven here on a real webmail host.

playbooks/audit.yml runs tests/audit/test_webmail.py against deployed mail_webmail
hosts. The edge mail host is one (the default scenario's hosts serve no webmail),
so the lab runs those same functions against it, with a `mail` built from `edge`.
"""

from __future__ import annotations

import pytest

from tests.audit.test_webmail import (  # noqa: F401  (collected here: the audit's checks on a webmail host)
    test_webmail_login_page_headers_and_no_version, test_webmail_port_80_only_redirects,
    test_webmail_tls_on_443_is_verified_and_mozilla_intermediate, web)
from conftest import audited_mail_host


@pytest.fixture(scope="module")
def mail(edge):
    return audited_mail_host(edge, "mail_webmail")  # the lab's proof of the audit's webmail checks
