"""Fixtures for the all-in-one scenario: one parametrised `mail` per instance."""

from __future__ import annotations

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
from tests.helpers.mailclient import Target  # noqa: E402


def _instances() -> list[str]:
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not inventory or not pathlib.Path(inventory).exists():
        raise pytest.UsageError("run through molecule verify (MOLECULE_INVENTORY_FILE is not set)")
    data = yaml.safe_load(pathlib.Path(inventory).read_text())
    return sorted((data.get("all", {}).get("hosts") or {}).keys())


@dataclass
class MailHost:
    name: str
    host: testinfra.host.Host
    target: Target
    lab: LabData

    @property
    def release(self) -> str:
        return self.host.system_info.release


def pytest_configure(config):
    config.addinivalue_line("markers", "control(id): the conformance control (tests/conformance/controls) a test proves")


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
    return MailHost(
        name=request.param,
        host=testinfra.get_host(f"podman://{request.param}"),
        target=target_for(request.param, lab.hostname),
        lab=lab,
    )


def pytest_terminal_summary(terminalreporter):
    """Print what the independent scanners said (reports/scanners-<host>.txt, test_scanners.py)."""
    reports = sorted((ROOT / "reports").glob("scanners-*.txt"))
    if reports:
        terminalreporter.section("independent scanners")
        for path in reports:
            for line in path.read_text().splitlines():
                terminalreporter.write_line(f"{path.stem.removeprefix('scanners-')}: {line}")
