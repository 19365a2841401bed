"""TLS on every port, judged by an independent scanner (sslyze, Mozilla intermediate)."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers.lab import ROOT
from tests.helpers.mailclient import SMTP

SSLYZE = ROOT / ".venv-sslyze" / "bin" / "sslyze"

# port -> STARTTLS protocol for sslyze (None: implicit TLS)
TLS_PORTS = {25: "smtp", 587: "smtp", 465: None, 143: "imap", 993: None}


@pytest.mark.audit
@pytest.mark.control("TLS-01")
@pytest.mark.parametrize("port", sorted(TLS_PORTS))
def test_sslyze_mozilla_intermediate(mail, port, evidence):
    cmd = [str(SSLYZE), "--mozilla_config", "intermediate", "--certinfo_ca_file", mail.target.cafile]
    if TLS_PORTS[port]:
        cmd += ["--starttls", TLS_PORTS[port]]
    cmd.append(f"{mail.lab.hostname}:{port}{{{mail.target.address}}}")
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    report = result.stdout[-3000:]
    assert f"{mail.lab.hostname}:{port}: OK - Compliant" in result.stdout, report
    assert result.returncode == 0, report
    evidence(f"sslyze {port}: OK - Compliant (Mozilla intermediate)")


@pytest.mark.audit
@pytest.mark.control("TLS-02")
def test_certificate_names_the_mail_host_and_chains_to_the_ca(mail, evidence):
    with SMTP(mail.target, 25) as client:
        client.ehlo()
        client.starttls()  # verifies the chain and mail.<domain> with the CA file
        cert = client.sock.getpeercert()
    names = [v for k, v in cert["subjectAltName"] if k == "DNS"]
    assert mail.lab.hostname in names
    evidence(f"SAN {names}, verified against the CA, expires {cert['notAfter']}")
