"""Fixtures for the all-in-one scenario: one parametrised `mail` per instance."""

from __future__ import annotations

import json
import os
import pathlib
import sys
from dataclasses import dataclass

import pytest
import testinfra
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from tests.helpers.lab import LabData, load_lab_data, podman_env, target_for  # noqa: E402
from tests.helpers.podman_host import podman_host  # noqa: E402
from tests.helpers.mailclient import Target  # noqa: E402
import tests.conformance.plugin as _conformance  # noqa: E402
from tests.helpers import exclusive  # noqa: E402
from tests.conformance.plugin import *  # noqa: E402,F401,F403  (conformance report, control marker)


# Audit mode (playbooks/audit.yml): the same tests, marked `audit`, against
# already deployed servers of any inventory, read-only and without accounts.
AUDIT_HOSTS = os.environ.get("MAIL_AUDIT_HOSTS")


def _instances() -> list[str]:
    if AUDIT_HOSTS:
        return sorted(AUDIT_HOSTS.split(","))
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not inventory or not pathlib.Path(inventory).exists():
        raise pytest.UsageError("run through molecule verify (MOLECULE_INVENTORY_FILE is not set) "
                                "or playbooks/audit.yml (MAIL_AUDIT_HOSTS)")
    data = yaml.safe_load(pathlib.Path(inventory).read_text())
    return sorted((data.get("all", {}).get("hosts") or {}).keys())


@pytest.fixture(scope="session")
def instance_names() -> list[str]:
    """Every instance of the run (the `mail` parameters), for tests that scan all hosts at once."""
    return _instances()


def _audit_host(name: str) -> tuple[testinfra.host.Host, Target, LabData]:
    """Host, target and data of one audited server, from what audit.yml passes in MAIL_AUDIT_HOSTVARS."""
    hv = json.loads(os.environ["MAIL_AUDIT_HOSTVARS"])[name]
    if hv["connection"] in ("podman", "containers.podman.podman", "podman_pipelined"):
        host = podman_host(hv["container"] or name)
    else:
        host = testinfra.get_host(f"ansible://{name}?ansible_inventory={hv['inventory']}")
    target = Target(address=hv["address"], hostname=hv["hostname"], cafile=hv["cafile"])
    return host, target, LabData(domains=hv["domains"], hostname=hv["hostname"], accounts=[], aliases=[], passwords={})


def pytest_collection_modifyitems(session, config, items):  # noqa: F811 (extends the plugin's)
    """In audit mode only the read-only checks (marked `audit`) run."""
    if AUDIT_HOSTS:
        keep = [item for item in items if item.get_closest_marker("audit")]
        # Their controls show "outside this run's scope" in the audit report, not NOT PROVEN.
        _conformance.out_of_scope(config, [item for item in items if item not in keep],
                                  "the read-only audit runs only the checks marked `audit`",
                                  "kiểm tra chỉ đọc chỉ chạy các phép kiểm được đánh dấu `audit`")
        items[:] = keep
    _conformance.pytest_collection_modifyitems(session, config, items)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):  # noqa: F811 (extends the plugin's)
    _conformance.pytest_configure(config)
    exclusive.configure(config)  # two xdist workers; `exclusive` tests run alone
    config.addinivalue_line("markers", "audit: read-only check that needs no account; "
                                       "playbooks/audit.yml runs these against deployed servers")


@dataclass
class MailHost:
    name: str
    host: testinfra.host.Host
    target: Target
    lab: LabData

    @property
    def release(self) -> str:
        return self.host.system_info.release



def pytest_sessionstart(session):
    for stale in (ROOT / "reports").glob("scanners-*.txt"):
        stale.unlink()


def pytest_generate_tests(metafunc):
    if "mail" in metafunc.fixturenames:
        metafunc.parametrize("mail", _instances(), indirect=True, scope="module")


@pytest.fixture(scope="module")
def mail(request) -> MailHost:
    os.environ.update({k: v for k, v in podman_env().items() if k == "CONTAINERS_CONF"})
    if AUDIT_HOSTS:
        host, target, data = _audit_host(request.param)
        return MailHost(name=request.param, host=host, target=target, lab=data)
    lab = load_lab_data()
    return MailHost(
        name=request.param,
        host=podman_host(request.param),
        target=target_for(request.param, lab.hostname),
        lab=lab,
    )


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: F811 (extends the plugin's)
    """The conformance summary, then what the independent scanners said (reports/scanners-<host>.txt)."""
    _conformance.pytest_terminal_summary(terminalreporter, exitstatus, config)
    reports = sorted((ROOT / "reports").glob("scanners-*.txt"))
    if reports:
        terminalreporter.section("independent scanners")
        for path in reports:
            for line in path.read_text().splitlines():
                terminalreporter.write_line(f"{path.stem.removeprefix('scanners-')}: {line}")
