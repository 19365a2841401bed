"""TLS on every port, judged by an independent scanner (sslyze, Mozilla intermediate), and the
certificate's name and chain: the read-only checks of tests/audit/test_tls.py (which
playbooks/audit.yml runs against deployed servers), collected here as this module's tests."""

from tests.audit.test_tls import (  # noqa: F401
    test_certificate_names_the_mail_host_and_chains_to_the_ca, test_sslyze_mozilla_intermediate)
