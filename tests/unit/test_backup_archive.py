"""mail-backup-tool archive against real restic repositories on local disk.

A departed account past its retention is archived then removed (issue #4): the
mailbox directory goes away only when every repository holds a snapshot whose
restored copy has every message with the same SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.restic import RESTIC, needs_restic

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "roles" / "backup_client" / "files" / "mail-backup-tool"
pytestmark = [
    needs_restic,
    pytest.mark.control("BAK-09"),
]
PASSWORD = "unit-test-restic-password"


@pytest.fixture()
def lab(tmp_path):
    vmail = tmp_path / "vmail"
    maildir = vmail / "gialai.gov.vn" / "hungpv" / "Maildir"
    for sub in ("cur", "new", "tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "cur" / "1700000000.M1P1.mail:2,S").write_bytes("Subject: Công văn số 12\n\nNội dung\n".encode())
    (maildir / "new" / "1700000001.M2P1.mail").write_bytes(b"Subject: big\n\n" + os.urandom(300_000))
    (maildir / ".Sent" / "cur" / "1700000002.M3P1.mail:2,S").write_bytes(b"Subject: sent\n\nok\n")
    (maildir.parent / "sieve").mkdir()
    repos = tmp_path / "repos"
    wrapper = tmp_path / "mail-restic"
    wrapper.write_text(f'#!/bin/sh\nrepo=$1; shift\nexec {RESTIC} -q -r "{repos}/$repo" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ, RESTIC_PASSWORD=PASSWORD, MAIL_RESTIC=str(wrapper),
               MAIL_ARCHIVE_MANIFESTS=str(tmp_path / "archives"), RESTIC_CACHE_DIR=str(tmp_path / "cache"))
    for name in ("primary", "copy"):
        subprocess.run([str(wrapper), name, "init"], env=env, check=True, capture_output=True)

    def archive(*repos_given: str) -> tuple[int, dict]:
        cmd = [sys.executable, str(TOOL), "archive", "--address", "hungpv@gialai.gov.vn",
               "--vmail", str(vmail), "--host", "store"]
        for name in repos_given:
            cmd += ["--repository", name]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        return done.returncode, json.loads(done.stdout)

    def restic(repo: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(wrapper), repo, *args], env=env, capture_output=True, text=True, check=True)

    return {"vmail": vmail, "userdir": maildir.parent, "maildir": maildir, "archive": archive,
            "restic": restic, "tmp": tmp_path}


def _digests(maildir: Path) -> dict[str, str]:
    return {str(p.relative_to(maildir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in maildir.rglob("*") if p.is_file() and p.parent.name in ("cur", "new")}


def test_archive_removes_the_mailbox_only_after_every_copy_is_verified(lab):
    before = _digests(lab["maildir"])
    rc, out = lab["archive"]("primary", "copy")
    assert rc == 0, out
    assert out["removed"] is True and out["messages"] == 3
    assert [r["verified"] for r in out["repositories"]] == [3, 3]
    assert not lab["userdir"].exists()
    # each repository holds the mailbox and its manifest, tagged, and gives the same bytes back
    for entry in out["repositories"]:
        snaps = json.loads(lab["restic"](entry["repository"], "snapshots", "--json", "--tag", "mail-archive").stdout)
        assert len(snaps) == 1 and snaps[0]["id"].startswith(entry["snapshot"])
        assert "mailbox:hungpv@gialai.gov.vn" in snaps[0]["tags"]
        target = lab["tmp"] / f"back-{entry['repository']}"
        lab["restic"](entry["repository"], "restore", entry["snapshot"], "--target", str(target))
        assert _digests(target / str(lab["maildir"]).lstrip("/")) == before
        manifest = json.loads((target / str(lab["tmp"] / "archives").lstrip("/") / "hungpv@gialai.gov.vn.json").read_text())
        assert manifest["mailboxes"]["hungpv@gialai.gov.vn"]["count"] == 3


def test_a_failing_repository_keeps_the_mailbox(lab):
    before = _digests(lab["maildir"])
    rc, out = lab["archive"]("primary", "missing")  # no such repository: restic cannot open it
    assert rc == 1, out
    assert out["removed"] is False
    assert any(p.startswith("missing: backup failed") for p in out["problems"]), out
    assert _digests(lab["maildir"]) == before


def test_no_repository_keeps_the_mailbox(lab):
    rc, out = lab["archive"]()
    assert rc == 1 and out["removed"] is False and out["problems"] == ["no repository given"]
    assert lab["maildir"].is_dir()


def test_an_archived_mailbox_is_reported_not_archived_twice(lab):
    assert lab["archive"]("primary")[0] == 0
    rc, out = lab["archive"]("primary")
    assert rc == 0 and out["removed"] is False and "already archived" in out["note"]
    snaps = json.loads(lab["restic"]("primary", "snapshots", "--json").stdout)
    assert len(snaps) == 1
