"""Run a scenario's tests on two pytest-xdist workers without one test disturbing another.

Most of a verify step waits: on a scanner, a playbook, a ban, a queue. Tests that
only look (an SMTP session, an IMAP login, a scan) may run side by side. A test
that changes what others see (stops a service, rewrites configuration or
accounts, opens a listener, plants a key) is marked `exclusive` and runs alone.

The rule is a readers-writer lock shared by the workers of one verify step
(two lock files in the run's directory, `fcntl.flock`):

- every test holds the lock shared, from its setup to its teardown;
- an `exclusive` test holds it exclusively: it waits until the running tests end,
  and no test starts until it has ended (a turnstile gives it precedence, so
  a stream of shared tests cannot starve it);
- a module marked `exclusive` (`pytestmark`) holds it from its first test's setup
  to its last test's teardown, because its module-scoped fixtures change the host
  for the whole module (an account added, a listener started).

`--dist loadfile` keeps each module on one worker, so a module's fixtures are set
up once. Without pytest-xdist (a plain `pytest`, the read-only audit) nothing is
locked. Nothing is ever re-run: a test that fails, fails.
"""

from __future__ import annotations

import fcntl
import os
import pathlib

import pytest

MARKER = "exclusive: changes what other tests see (a service stopped, configuration or accounts rewritten); " \
         "runs with no other test of the scenario at the same time (tests/helpers/exclusive.py)"


class Lock:
    """A readers-writer lock over two files: `<dir>/verify.lock` and its turnstile."""

    def __init__(self, directory: pathlib.Path):
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = os.open(directory / "verify.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._gate = os.open(directory / "verify.gate", os.O_RDWR | os.O_CREAT, 0o600)
        self.held: str | None = None

    def shared(self) -> None:
        fcntl.flock(self._gate, fcntl.LOCK_EX)  # wait behind an exclusive test that is waiting
        fcntl.flock(self._gate, fcntl.LOCK_UN)
        fcntl.flock(self._lock, fcntl.LOCK_SH)
        self.held = "shared"

    def exclusive(self) -> None:
        fcntl.flock(self._gate, fcntl.LOCK_EX)  # new shared tests wait from now on
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX)  # the running ones end
        finally:
            fcntl.flock(self._gate, fcntl.LOCK_UN)
        self.held = "exclusive"

    def release(self) -> None:
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self.held = None


def lock_dir() -> pathlib.Path | None:
    """The verify step's own directory: Molecule's ephemeral directory of the scenario
    (default and debian12 verify at the same time, each with its own lock)."""
    ephemeral = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    return pathlib.Path(ephemeral) / "xdist" if ephemeral else None


def module_is_exclusive(item) -> bool:
    marks = getattr(getattr(item, "module", None), "pytestmark", [])
    marks = marks if isinstance(marks, list) else [marks]
    return any(mark.name == "exclusive" for mark in marks)


class ExclusivePlugin:
    def __init__(self, lock: Lock):
        self.lock = lock

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        whole_module = module_is_exclusive(item)
        if self.lock.held is None:
            if whole_module or item.get_closest_marker("exclusive"):
                self.lock.exclusive()
            else:
                self.lock.shared()
        try:
            yield
        finally:
            same_module = nextitem is not None and getattr(nextitem, "module", None) is getattr(item, "module", None)
            if not (whole_module and same_module):
                self.lock.release()


def configure(config) -> None:
    """Register the marker; under a pytest-xdist worker, take the lock around every test."""
    config.addinivalue_line("markers", MARKER)
    directory = lock_dir()
    if hasattr(config, "workerinput") and directory is not None:
        config.pluginmanager.register(ExclusivePlugin(Lock(directory)), "mail-exclusive")
