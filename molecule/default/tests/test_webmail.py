"""The read-only webmail checks of tests/audit on this scenario's hosts.

Collected here so the lab proves every check the audit relies on; they run on a
host of the group mail_webmail and skip on the others (this scenario's hosts are
not in it: the webmail is proven in molecule/edge/tests/test_webmail.py).
"""

from __future__ import annotations

from tests.audit.test_webmail import (  # noqa: F401  (collected here: the read-only checks on this scenario's hosts)
    test_webmail_login_page_headers_and_no_version, test_webmail_port_80_only_redirects,
    test_webmail_tls_on_443_is_verified_and_mozilla_intermediate)
