"""Fixtures for the backup scenario: the store, the backup host and the lab data."""

from __future__ import annotations

import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from tests.helpers.lab import load_lab_data, podman_env  # noqa: E402
from tests.helpers.podman_host import podman_host  # noqa: E402
from tests.conformance.plugin import *  # noqa: E402,F401,F403  (conformance report, control marker)

STORE = "bk-store13"
BACKUP = "bk-backup13"

# The tests are not parametrised by host: the conformance report of this
# scenario (reports/conformance/backup/<host>.md, BAK-01..08) is about the store
# whose mail is backed up; BAK-02's evidence (the accounts' isolation) is read
# on the backup host.
os.environ.setdefault("MAIL_CONFORMANCE_HOST", STORE)


@pytest.fixture(scope="session", autouse=True)
def _podman_env():
    os.environ.update({k: v for k, v in podman_env().items() if k == "CONTAINERS_CONF"})


@pytest.fixture(scope="session")
def lab():
    return load_lab_data()


@pytest.fixture(scope="session")
def backup_host():
    return podman_host(BACKUP)


def store_host():
    """A fresh testinfra handle: the store container is replaced during the run."""
    return podman_host(STORE)
