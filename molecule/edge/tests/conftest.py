"""Fixtures for the edge scenario: our host, the partner, the DNS server."""

from __future__ import annotations

import concurrent.futures
import os
import pathlib
import sys
from dataclasses import dataclass

import pytest
import testinfra
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from tests.helpers.inventory import inventory_groups  # noqa: E402
from tests.helpers.lab import LabData, load_lab_data, podman_env, target_for  # noqa: E402
from tests.helpers.podman_host import podman_host  # noqa: E402
from tests.helpers.mailclient import Target  # noqa: E402
import tests.conformance.plugin as _conformance  # noqa: E402
from tests.helpers import exclusive  # noqa: E402
from tests.helpers.scanners import run_testssl  # noqa: E402
from tests.conformance.plugin import *  # noqa: E402,F401,F403  (conformance report, control marker)

SCENARIO = pathlib.Path(__file__).resolve().parents[1]


def _instances() -> dict[str, str]:
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not inventory or not pathlib.Path(inventory).exists():
        raise pytest.UsageError("run through molecule verify (MOLECULE_INVENTORY_FILE is not set)")
    data = yaml.safe_load(pathlib.Path(inventory).read_text())
    names = sorted((data.get("all", {}).get("hosts") or {}).keys())
    return {role: next(n for n in names if n.endswith(f"-{role}13")) for role in ("mail", "partner", "dns")}


if os.environ.get("MOLECULE_INVENTORY_FILE"):
    # The conformance report of this scenario is about our mail host.
    os.environ.setdefault("MAIL_CONFORMANCE_HOST", _instances()["mail"])


def pytest_collection_modifyitems(session, config, items):  # noqa: F811 (extends the plugin's)
    """A test parametrised by `who` (mail or partner) is about that host: the partner's half
    goes to the partner's conformance report and never counts for or against our host."""
    names = _instances() if os.environ.get("MOLECULE_INVENTORY_FILE") else {}
    for item in items:
        who = getattr(item, "callspec", None) and item.callspec.params.get("who")
        if who in names:
            item.user_properties.append(("conformance_host", names[who]))
    _conformance.pytest_collection_modifyitems(session, config, items)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):  # noqa: F811 (extends the plugin's)
    _conformance.pytest_configure(config)
    # The `exclusive` marker (a test that changes what the others see). This scenario verifies
    # on one worker, so nothing is locked; under pytest-xdist such a test would run alone.
    exclusive.configure(config)


def _scanner_figures() -> pathlib.Path | None:
    """reports/scanners-<our mail host>.txt (tests/helpers/scanners.py record): testssl.sh on 443,
    the webmail benchmark's smoke."""
    if not os.environ.get("MOLECULE_INVENTORY_FILE"):
        return None
    return ROOT / "reports" / f"scanners-{_instances()['mail']}.txt"


def pytest_sessionstart(session):
    (ROOT / "reports" / "clamd-official-size.txt").unlink(missing_ok=True)
    if _scanner_figures():
        _scanner_figures().unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: F811 (extends the plugin's)
    """The conformance summary, then clamd's figures with the official-size database, then
    testssl.sh's on 443 and the webmail benchmark smoke's."""
    _conformance.pytest_terminal_summary(terminalreporter, exitstatus, config)
    figures = ROOT / "reports" / "clamd-official-size.txt"
    if figures.exists():
        terminalreporter.section("clamd with a database the size of the official one (AV-08)")
        for line in figures.read_text().splitlines():
            terminalreporter.write_line(line)
    figures = _scanner_figures()
    if figures and figures.exists():
        terminalreporter.section("testssl.sh on 443 (WEB-01) and the webmail benchmark's smoke")
        for line in figures.read_text().splitlines():
            terminalreporter.write_line(line)


@dataclass
class Host:
    name: str
    host: testinfra.host.Host
    target: Target | None
    hostname: str
    passwords: dict

    def password(self, address: str) -> str:
        return self.passwords[address]


@dataclass
class Edge:
    mail: Host
    partner: Host
    dns: Host
    lab: LabData
    records_dir: pathlib.Path
    mail_groups: tuple[str, ...] = ()  # our mail host's groups in Molecule's inventory


def audited_mail_host(edge: Edge, group: str):
    """Our mail host as the audit's `mail` (tests/audit): the lab runs the audit's read-only checks
    of `group`'s hosts against it. Never a silent skip: this host is the lab's proof of them."""
    from tests.helpers.lab import TLS_DIR
    from tests.helpers.mailhost import MailHost

    assert group in edge.mail_groups, edge.mail_groups
    return MailHost(name=edge.mail.name, host=edge.mail.host, target=edge.mail.target,
                    domains=edge.lab.domains, tls_key_file=f"{TLS_DIR}/privkey.pem", lab=edge.lab,
                    groups=edge.mail_groups)


@pytest.fixture(scope="session")
def edge() -> Edge:
    os.environ.update({k: v for k, v in podman_env().items() if k == "CONTAINERS_CONF"})
    names = _instances()
    lab = load_lab_data()
    partner = yaml.safe_load((SCENARIO / "group_vars" / "edge_partner" / "edge_partner.yml").read_text())
    return Edge(
        mail=Host(names["mail"], podman_host(names["mail"]),
                  target_for(names["mail"], lab.hostname), lab.hostname, lab.passwords),
        partner=Host(names["partner"], podman_host(names["partner"]),
                     target_for(names["partner"], partner["mail_hostname"]), partner["mail_hostname"],
                     partner["vault_mail_passwords"]),
        dns=Host(names["dns"], podman_host(names["dns"]), None, "ns.edge.test", {}),
        lab=lab,
        records_dir=pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "dns",
        mail_groups=inventory_groups(os.environ["MOLECULE_INVENTORY_FILE"], names["mail"]),
    )


TESTSSL_443_TEST = "test_testssl_on_443_no_high_or_critical_findings_breach_included"


@pytest.fixture(scope="session", autouse=True)
def testssl_443(request, edge, tmp_path_factory):
    """testssl.sh on our host's 443 (WEB-01), started with the session when that test is
    collected: it takes a minute or two of mostly waiting on handshakes, so it runs in the
    background while the other tests run, and the test judges the result (a future)."""
    if not any(item.name == TESTSSL_443_TEST for item in request.session.items):
        yield None
        return
    pool = concurrent.futures.ThreadPoolExecutor(1)
    out = tmp_path_factory.mktemp("testssl") / "testssl-443.json"
    yield pool.submit(run_testssl, edge.mail.target, edge.mail.hostname, 443, out)
    pool.shutdown(wait=True)
