"""Fixtures for the all-in-one scenario: one parametrised `mail` per Molecule instance.

This directory's modules also import the read-only checks of tests/audit (which
playbooks/audit.yml runs against deployed servers): they run here as these modules'
tests, against the instances, with this `mail` (the lab's data, accounts included).
"""

from __future__ import annotations

import os
import pathlib
import sys
import warnings

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from tests.helpers.inventory import inventory_groups  # noqa: E402
from tests.helpers.lab import TLS_DIR, load_lab_data, podman_env, target_for  # noqa: E402
from tests.helpers.mailclient import wait_for_banner  # noqa: E402
from tests.helpers.mailhost import MailHost  # noqa: E402
from tests.helpers.podman_host import podman_host  # noqa: E402
import tests.conformance.plugin as _conformance  # noqa: E402
from tests.helpers import exclusive  # noqa: E402
from tests.conformance.plugin import *  # noqa: E402,F401,F403  (conformance report, control marker)


def _instances() -> list[str]:
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not inventory or not pathlib.Path(inventory).exists():
        raise pytest.UsageError("run through molecule verify (MOLECULE_INVENTORY_FILE is not set); "
                                "the read-only audit of deployed servers is playbooks/audit.yml (tests/audit)")
    data = yaml.safe_load(pathlib.Path(inventory).read_text())
    return sorted((data.get("all", {}).get("hosts") or {}).keys())


@pytest.fixture(scope="session")
def instance_names() -> list[str]:
    """Every instance of the run (the `mail` parameters), for tests that scan all hosts at once."""
    return _instances()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):  # noqa: F811 (extends the plugin's)
    _conformance.pytest_configure(config)
    exclusive.configure(config)  # two xdist workers; `exclusive` tests run alone


def pytest_sessionstart(session):
    for stale in (ROOT / "reports").glob("scanners-*.txt"):
        stale.unlink()


def pytest_generate_tests(metafunc):
    if "mail" in metafunc.fixturenames:
        metafunc.parametrize("mail", _instances(), indirect=True, scope="module")


@pytest.fixture(scope="module")
def mail(request) -> MailHost:
    os.environ.update({k: v for k, v in podman_env().items() if k == "CONTAINERS_CONF"})
    lab = load_lab_data()
    target = target_for(request.param, lab.hostname)
    waited = wait_for_banner(target, 25)
    if waited > 10:
        warnings.warn(f"{request.param}: port 25 sent its banner only after {waited:.0f} s")
    return MailHost(
        name=request.param,
        host=podman_host(request.param),
        target=target,
        domains=lab.domains,
        tls_key_file=f"{TLS_DIR}/privkey.pem",
        lab=lab,
        groups=inventory_groups(os.environ["MOLECULE_INVENTORY_FILE"], request.param),
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
