"""mail-restic, the wrapper every backup task and unit goes through, with a real restic.

The password comes from the repository's root-only file, or, with
--password-stdin, from the first line of standard input (how Ansible hands over
the inventory's password: never on a command line or in a task's environment,
both printed at -vvv). A RESTIC_PASSWORD in the caller's environment is ignored.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.helpers.restic import needs_restic

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "roles" / "backup_client" / "templates" / "usr" / "local" / "sbin" / "mail-restic.j2"
pytestmark = [
    needs_restic,
    pytest.mark.control("CFG-04"),
]
PASSWORD = "unit-wrapper-password-1234"


@pytest.fixture()
def wrapper(tmp_path):
    conf = tmp_path / "conf"
    (conf / "repos").mkdir(parents=True)
    script = tmp_path / "mail-restic"
    text = TEMPLATE.read_text().replace("{{ ansible_managed | comment }}", "# managed")
    script.write_text(text.replace("{{ __backup_conf_dir }}", str(conf)))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    (conf / "repos" / "primary.env").write_text(f"RESTIC_REPOSITORY={tmp_path / 'repo'}\n"
                                                f"RESTIC_CACHE_DIR={tmp_path / 'cache'}\n")
    (conf / "repos" / "primary.password").write_text(PASSWORD + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTIC_")}

    def run(*args: str, stdin: str | None = None, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(script), *args], input=stdin if stdin is not None else "",
                              env={**env, **extra}, capture_output=True, text=True, timeout=120)

    return run


def test_password_on_stdin_creates_and_opens_the_repository_which_the_file_then_opens(wrapper):
    assert wrapper("--password-stdin", "primary", "init", stdin=PASSWORD + "\n").returncode == 0
    assert wrapper("--password-stdin", "primary", "cat", "config", stdin=PASSWORD).returncode == 0
    assert wrapper("primary", "cat", "config").returncode == 0  # the password file


def test_a_wrong_password_on_stdin_is_refused_and_the_environment_does_not_override_it(wrapper):
    assert wrapper("--password-stdin", "primary", "init", stdin=PASSWORD + "\n").returncode == 0
    wrong = wrapper("--password-stdin", "primary", "cat", "config", stdin="not-the-password\n")
    assert wrong.returncode != 0 and "wrong password" in wrong.stderr
    # a RESTIC_PASSWORD from the caller's environment is not used: stdin (or the file) is
    assert wrapper("--password-stdin", "primary", "cat", "config", stdin=PASSWORD,
                   RESTIC_PASSWORD="not-the-password").returncode == 0
    assert wrapper("primary", "cat", "config", RESTIC_PASSWORD="not-the-password").returncode == 0


def test_no_password_on_stdin_stops_with_a_message(wrapper):
    done = wrapper("--password-stdin", "primary", "cat", "config", stdin="")
    assert done.returncode == 2 and "no password on standard input" in done.stderr
