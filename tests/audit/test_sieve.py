"""ManageSieve (4190) as an outside client sees it, read-only: no authentication before STARTTLS,
the certificate of mail.<domain> after it, no software name."""

from __future__ import annotations

import pytest

from tests.helpers.managesieve import ManageSieve

# ManageSieve answers on mail_store hosts (tests/audit/conftest.py).
pytestmark = pytest.mark.mail_groups("mail_store")


@pytest.mark.control("SIEVE-01")
def test_managesieve_refuses_authentication_before_starttls(mail, evidence):
    user = "locnv@gialai.gov.vn"
    with ManageSieve(mail.target) as sieve:
        before = dict(sieve.capabilities)
        # The right password (when this run knows it): the refusal is the plaintext rule, not a wrong password.
        refused = sieve.authenticate(user, mail.known_passwords.get(user, "audit-probe"))
        assert refused.status == "NO", f"AUTHENTICATE before STARTTLS: {refused}"
        # 2.3: NO (ENCRYPT-NEEDED) "Authentication not allowed until SSL/TLS is enabled.";
        # 2.4: NO "Cleartext authentication disallowed on non-secure (SSL/TLS) connections."
        assert "ENCRYPT-NEEDED" in refused.text or "disallowed on non-secure" in refused.text.lower(), refused
        # The same session may still upgrade and then offer PLAIN, with the certificate verified.
        sieve.starttls()
        after = dict(sieve.capabilities)
        cert = sieve.sock.getpeercert()
    assert "STARTTLS" in before and before.get("SASL") == "", before
    assert "STARTTLS" not in after and "PLAIN" in after.get("SASL", "").split(), after
    assert mail.target.hostname in [v for k, v in cert["subjectAltName"] if k == "DNS"]
    implementation = before.get("IMPLEMENTATION", "").lower()
    assert implementation and "dovecot" not in implementation and "pigeonhole" not in implementation, before
    evidence(f"4190 before STARTTLS: SASL {before.get('SASL')!r}, AUTHENTICATE PLAIN -> {refused}; "
             f"after STARTTLS (certificate of {mail.target.hostname} verified): SASL {after.get('SASL')!r}; "
             f"IMPLEMENTATION {before.get('IMPLEMENTATION')!r}")
