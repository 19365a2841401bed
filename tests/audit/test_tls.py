"""TLS on every port, judged by an independent scanner (sslyze, Mozilla intermediate).

sslyze's verdict counts only once its JSON shows a complete scan of that port: every
scan command the Mozilla check needs COMPLETED, none in error (tests/helpers/scanners.py).
"""

from __future__ import annotations

import pytest

from tests.helpers.mailclient import SMTP, answers
from tests.helpers.scanners import run_sslyze

# port -> STARTTLS protocol for sslyze (None: implicit TLS). sslyze 6 knows no ManageSieve:
# 4190 is scanned through a local relay that says STARTTLS first (tests/helpers/managesieve.py).
TLS_PORTS = {25: "smtp", 587: "smtp", 465: None, 143: "imap", 993: None, 4190: "sieve"}
# which hosts listen on each: Postfix on mail_mx hosts, Dovecot on mail_store hosts
PORT_GROUP = {25: "mail_mx", 587: "mail_mx", 465: "mail_mx", 143: "mail_store", 993: "mail_store", 4190: "mail_store"}


@pytest.mark.control("TLS-01")
@pytest.mark.mail_groups("mail_mx", "mail_store")  # tests/audit/conftest.py
@pytest.mark.parametrize("port", sorted(TLS_PORTS))
def test_sslyze_mozilla_intermediate(mail, port, evidence, tmp_path):
    if not mail.serves(PORT_GROUP[port]):
        # a mail host of the other kind: the port must not answer at all
        assert not answers(mail.target.address, port), f"{port} answers on a host outside {PORT_GROUP[port]}"
        evidence(f"{port}: closed from outside (not a {PORT_GROUP[port]} host)")
        return
    run = run_sslyze(mail.target, port, tmp_path / f"sslyze-{port}.json", TLS_PORTS[port])
    report = run.stdout[-3000:]
    assert run.problems == [], (run.problems, report)
    assert run.compliant, report
    assert run.returncode == 0, report
    evidence(f"sslyze {port}: OK - Compliant (Mozilla intermediate), all 15 scan commands completed")


@pytest.mark.control("TLS-02")
@pytest.mark.mail_groups("mail_mx")  # read on 25 (tests/audit/conftest.py)
def test_certificate_names_the_mail_host_and_chains_to_the_ca(mail, evidence):
    with SMTP(mail.target, 25) as client:
        client.ehlo()
        client.starttls()  # verifies the chain and mail.<domain> with the CA file
        cert = client.sock.getpeercert()
    names = [v for k, v in cert["subjectAltName"] if k == "DNS"]
    assert mail.target.hostname in names
    evidence(f"SAN {names}, verified against the CA, expires {cert['notAfter']}")
