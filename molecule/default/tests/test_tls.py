"""The certificate's name and chain: a read-only check of tests/audit/test_tls.py (which
playbooks/audit.yml runs against deployed servers), collected here as this module's test.
sslyze on every TLS port (TLS-01) is not imported here: the scenario's audit run
(test_audit.py) runs it on every host, and test_the_audit_run_proves_the_checks_left_to_it
asserts its verdicts there, once."""

from tests.audit.test_tls import test_certificate_names_the_mail_host_and_chains_to_the_ca  # noqa: F401
