"""The read-only audit of deployed mail servers (playbooks/audit.yml): one parametrised
`mail` per audited host, built only from what the playbook passes:

- MAIL_AUDIT_HOSTS: the hosts, comma-separated;
- MAIL_AUDIT_HOSTVARS: per host (JSON) its connection, container, inventory, address,
  host name, domains, the CA file the playbook wrote for it, its TLS key's path (its
  tls_key_file), its groups and its lab switches (the catalogue's `lab_switches:` its inventory sets).

The tests here only look (as an outside client, and through commands that change
nothing) and log in nowhere: the audit knows no lab and no account (`mail.lab` is
None, `mail.known_passwords` empty). Other suites import these tests and run them
with their own `mail` fixture (README, Tests), so a test here uses only what both
give (tests/helpers/mailhost.py), and nothing of tests/helpers/lab.py.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

import pytest
import testinfra

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.helpers.mailclient import Target  # noqa: E402
from tests.helpers.mailhost import MailHost  # noqa: E402
from tests.helpers.podman_host import podman_env, podman_host  # noqa: E402
import tests.conformance.plugin as _conformance  # noqa: E402
from tests.conformance.plugin import *  # noqa: E402,F401,F403  (conformance report, control marker)

PODMAN_CONNECTIONS = ("podman", "containers.podman.podman", "podman_pipelined")


def _hosts() -> list[str]:
    hosts = os.environ.get("MAIL_AUDIT_HOSTS")
    if not hosts:
        raise pytest.UsageError("run through playbooks/audit.yml (MAIL_AUDIT_HOSTS is not set)")
    return sorted(hosts.split(","))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):  # noqa: F811 (extends the plugin's)
    _conformance.pytest_configure(config)
    # The controls whose tests are elsewhere (they log in, send mail or change the host) show
    # "outside this run's scope" in the audit's reports, not NOT PROVEN.
    _conformance.declare_scope(config, "the read-only audit runs only the checks of tests/audit",
                               "kiểm tra chỉ đọc chỉ chạy các phép kiểm trong tests/audit")


@pytest.fixture(autouse=True)
def _applies_to_the_host(request):
    """`pytest.mark.mail_groups(...)` on a module (`pytestmark`) or a test: it runs on hosts of those
    groups only; elsewhere they skip, and the catalogue declares their controls not applicable
    there (`not_in_groups`), so a backup or monitor host of its own is audited for what it runs."""
    marker = request.node.get_closest_marker("mail_groups")
    if marker is None or "mail" not in request.fixturenames:
        return
    mail = request.getfixturevalue("mail")
    if not mail.serves(*marker.args):
        pytest.skip(f"{mail.name} is in none of {', '.join(marker.args)}")


def pytest_generate_tests(metafunc):
    if "mail" in metafunc.fixturenames:
        metafunc.parametrize("mail", _hosts(), indirect=True, scope="module")


@pytest.fixture(scope="module")
def mail(request) -> MailHost:
    """One audited server: commands through its inventory's connection, its services at its address."""
    name = request.param
    hv = json.loads(os.environ["MAIL_AUDIT_HOSTVARS"])[name]
    if hv["connection"] in PODMAN_CONNECTIONS:
        os.environ.update({k: v for k, v in podman_env().items() if k == "CONTAINERS_CONF"})
        host = podman_host(hv["container"] or name)
    else:
        host = testinfra.get_host(f"ansible://{name}?ansible_inventory={hv['inventory']}")
    return MailHost(name=name, host=host,
                    target=Target(address=hv["address"], hostname=hv["hostname"], cafile=hv["cafile"]),
                    domains=hv["domains"], tls_key_file=hv["tls_key_file"], groups=tuple(hv.get("groups", ())))
