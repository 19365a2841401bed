"""Firewall: nftables default deny inbound; only the host's groups' ports; SSH only for admins."""

from __future__ import annotations

import json

import pytest

from tests.helpers.lab import wait_listening
from tests.helpers.outside import container_network, run_client

# Runs alone (tests/helpers/exclusive.py): a decoy listener on a port no test may see open.
pytestmark = pytest.mark.exclusive

# What an outside client may reach on an all-in-one host (mail_mx + mail_store).
OPEN = [25, 465, 587, 143, 993, 4190]

PROBE = """
import json, socket
res = {}
for port in %(ports)r:
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((%(address)r, port))
        res[port] = "open"
    except socket.timeout:
        res[port] = "filtered"
    except OSError as e:
        res[port] = "refused"
    finally:
        s.close()
print(json.dumps(res))
"""


@pytest.fixture(scope="module")
def decoy(mail):
    """Something listening on a port no group opens (8025), to show the firewall, not the daemon, refuses."""
    mail.host.run("systemd-run --unit=fw-decoy --property=RuntimeMaxSec=600 python3 -m http.server 8025")
    wait_listening(mail.host, 8025)
    yield 8025
    mail.host.run("systemctl stop fw-decoy")


@pytest.mark.control("FW-01")
def test_ruleset_is_loaded_and_drops_by_default(mail):
    out = mail.host.run("nft -j list chain inet mail_filter input")
    assert out.rc == 0, out.stderr
    chain = next(i["chain"] for i in json.loads(out.stdout)["nftables"] if "chain" in i)
    assert chain["hook"] == "input" and chain["policy"] == "drop"
    assert mail.host.service("nftables").is_enabled
    conf = mail.host.file("/etc/nftables.conf")
    assert conf.mode == 0o600 and "ct state established,related accept" in conf.content_string


@pytest.mark.control("FW-02")
def test_outside_client_reaches_only_the_mail_ports(mail, decoy):
    assert mail.host.socket(f"tcp://0.0.0.0:{decoy}").is_listening
    assert mail.host.run("ss -Hltn 'sport = :9900'").stdout.strip(), "Dovecot's metrics (MON-13) do not listen"
    closed = (22, decoy, 110, 995, 9900)
    seen = run_client(container_network(mail.name), PROBE % {"ports": OPEN + list(closed), "address": mail.target.address})
    seen = {int(k): v for k, v in seen.items()}
    assert {p: seen[p] for p in OPEN} == {p: "open" for p in OPEN}, seen
    # SSH (not an admin network), the decoy, closed mail ports and Dovecot's metrics (no monitor host
    # here): dropped, not even refused
    assert {p: seen[p] for p in closed} == dict.fromkeys(closed, "filtered"), seen


@pytest.mark.control("FW-03")
def test_the_administrator_reaches_ssh_but_not_the_decoy(mail, decoy):
    import socket

    with socket.create_connection((mail.target.address, 22), timeout=5) as s:
        assert s.recv(64).startswith(b"SSH-2.0-")
    with pytest.raises(OSError):
        socket.create_connection((mail.target.address, decoy), timeout=3)
