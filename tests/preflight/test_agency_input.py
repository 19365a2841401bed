"""mail_agency_networks (agencies behind one NAT): a bad entry stops the run before any host, naming it."""

from __future__ import annotations

import pytest


@pytest.mark.control("F2B-05")
def test_malformed_agency_network_is_named_before_any_host(run_site):
    result = run_site({"mail_agency_networks": ["203.0.113.8/29", "10.20.1.7/24", "nat-gw.gialai.gov.vn"]})
    out = result.stdout + result.stderr
    assert result.returncode != 0, out[-3000:]
    assert "UNREACHABLE" not in out and "PLAY [Deploy the mail hosts]" not in out, out[-3000:]
    assert "(mail_agency_networks)" in out, out[-3000:]
    assert "'10.20.1.7/24' has host bits set (the network is 10.20.1.0/24)" in out, out[-3000:]
    assert "'nat-gw.gialai.gov.vn' is not an IP address or CIDR network" in out, out[-3000:]
    assert "203.0.113.8/29'" not in out.split("(mail_agency_networks)", 1)[1].split("\n", 1)[0]
