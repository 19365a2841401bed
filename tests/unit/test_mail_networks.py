"""Networks given as data (mail_agency_networks): checked, and the Internet around them for fail2ban."""

from __future__ import annotations

import ipaddress
import random

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gialai.mail.plugins.plugin_utils.networks import (
    mail_network_problems,
    mail_networks_not_within,
    mail_networks_outside,
)


@pytest.mark.control("F2B-05")
@pytest.mark.parametrize(("entry", "message"), [
    ("10.20.0.0/33", "'10.20.0.0/33' is not an IP address or CIDR network"),
    ("agency-nat", "'agency-nat' is not an IP address or CIDR network"),
    ("10.20.1.7/24", "'10.20.1.7/24' has host bits set (the network is 10.20.1.0/24)"),
    ("0.0.0.0/1", "'0.0.0.0/1' is wider than /16 (2147483648 addresses)"),
    ("2001:db8::/32", "'2001:db8::/32' is wider than /48"),
])
def test_a_bad_network_is_named(entry, message):
    problems = mail_network_problems(["203.0.113.8/29", entry])
    assert len(problems) == 1 and problems[0].startswith(message), problems


def test_good_networks_and_single_addresses_pass():
    assert mail_network_problems(["203.0.113.8/29", "198.51.100.17", "2001:db8:5::/48", "2001:db8::1"]) == []
    assert mail_network_problems([]) == []
    assert mail_network_problems(["10.0.0.0/8"], 8, 48) == []
    assert mail_network_problems("10.0.0.0/16") == []
    assert mail_network_problems({"10.0.0.0/16": 1}) != []


def _covered(nets, address):
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(n) for n in nets)


@pytest.mark.control("F2B-05")
def test_outside_holds_every_address_but_the_agencies():
    agencies = ["203.0.113.8/29", "198.51.100.17", "2001:db8:5::/48"]
    outside = mail_networks_outside(agencies)
    inside = [ipaddress.ip_network(n) for n in agencies]
    # no overlap with the agencies, and nothing of the Internet left out
    for net in map(ipaddress.ip_network, outside):
        assert not any(net.overlaps(a) for a in inside), net
    v4 = sum(ipaddress.ip_network(n).num_addresses for n in outside if ":" not in n)
    v6 = sum(ipaddress.ip_network(n).num_addresses for n in outside if ":" in n)
    assert v4 == 2**32 - 8 - 1 and v6 == 2**128 - 2**80
    for address in ("203.0.113.9", "198.51.100.17", "2001:db8:5::1"):
        assert not _covered(outside, address)
    for address in ("203.0.113.7", "203.0.113.16", "198.51.100.16", "198.51.100.18", "10.89.0.3",
                    "2001:db8:6::1", "::1"):
        assert _covered(outside, address)
    rng = random.Random(16)
    for _ in range(500):
        address = str(ipaddress.IPv4Address(rng.getrandbits(32)))
        assert _covered(outside, address) != _covered(agencies, address), address


def test_outside_of_nothing_is_everything_and_bad_input_is_named():
    assert mail_networks_outside([]) == ["0.0.0.0/0", "::/0"]
    assert mail_networks_outside(["10.0.0.0/9", "10.128.0.0/9"])[:2] == ["0.0.0.0/5", "8.0.0.0/7"]
    assert "10.0.0.0/8" not in mail_networks_outside(["10.0.0.0/9", "10.128.0.0/9"])
    with pytest.raises(AnsibleFilterError, match="'nat-gw' is not an IP address"):
        mail_networks_outside(["nat-gw"])


def test_a_bastion_outside_the_admin_networks_is_named():
    """site.yml's preflight: every mail_admin_bastions entry inside mail_admin_networks."""
    admin = ["10.10.0.0/24", "2001:db8:a::/48"]
    assert mail_networks_not_within(["10.10.0.10/32", "10.10.0.11", "2001:db8:a::10"], admin) == []
    # outside, wider than the network, or of the other family: each named, as given, in order
    assert mail_networks_not_within(
        ["10.10.0.10/32", "192.0.2.7/32", "10.10.0.0/23", "::ffff:10.10.0.10", "10.10.1.1"], admin
    ) == ["192.0.2.7/32", "10.10.0.0/23", "::ffff:10.10.0.10", "10.10.1.1"]
    # inside when one network holds it whole, not when it spans two
    assert mail_networks_not_within(["10.0.0.0/23"], ["10.0.0.0/24", "10.0.1.0/24"]) == ["10.0.0.0/23"]
    assert mail_networks_not_within([], []) == [] and mail_networks_not_within(["10.0.0.1"], []) == ["10.0.0.1"]
    assert mail_networks_not_within("10.10.0.10", "10.10.0.0/24") == []


@pytest.mark.parametrize(("entries", "networks", "message"), [
    (["bastion-1"], ["10.10.0.0/24"], "checked entry 'bastion-1' is not an IP address"),
    (["10.10.0.10"], ["10.10.0.0/33"], "network entry '10.10.0.0/33' is not an IP address"),
])
def test_a_malformed_entry_of_either_list_is_named(entries, networks, message):
    with pytest.raises(AnsibleFilterError, match=message):
        mail_networks_not_within(entries, networks)
