"""Fixtures for the backup scenario: the store, the backup host and the lab data."""

from __future__ import annotations

import os
import pathlib
import sys

import pytest
import testinfra

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from tests.helpers.lab import load_lab_data, podman_env  # noqa: E402

STORE = "bk-store13"
BACKUP = "bk-backup13"


@pytest.fixture(scope="session", autouse=True)
def _podman_env():
    os.environ.update({k: v for k, v in podman_env().items() if k == "CONTAINERS_CONF"})


@pytest.fixture(scope="session")
def lab():
    return load_lab_data()


@pytest.fixture(scope="session")
def backup_host():
    return testinfra.get_host(f"podman://{BACKUP}")


def store_host():
    """A fresh testinfra handle: the store container is replaced during the run."""
    return testinfra.get_host(f"podman://{STORE}")


def pytest_configure(config):
    # The conformance marker (tests/conformance/controls/backup.yml: BAK-01..BAK-08).
    config.addinivalue_line("markers", "control(id): the conformance control a test proves")
