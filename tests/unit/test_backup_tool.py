"""mail-backup-tool verify and merge with the scope mailboxes:<a>,<b>,... (restore of one agency).

No restic needed: a snapshot is stood in for by a copy of the store in a staging
directory, as restore.yml leaves it after restic restore.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "roles" / "backup_client" / "files" / "mail-backup-tool"
pytestmark = pytest.mark.control("BAK-08")
BOXES = ("vanphong@gialai.gov.vn", "luutru@gialai.gov.vn", "sonoivu@gialai.gov.vn")
SCOPE = "mailboxes:VanPhong@gialai.gov.vn, luutru@gialai.gov.vn"  # any case, spaces after commas


def tool(*args: str) -> tuple[int, dict | str]:
    done = subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True)
    try:
        return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return done.returncode, done.stdout + done.stderr


def maildir(vmail: Path, address: str) -> Path:
    user, domain = address.split("@")
    return vmail / domain / user / "Maildir"


def names(vmail: Path, address: str) -> set[str]:
    md = maildir(vmail, address)
    return {str(p.relative_to(md)) for p in md.rglob("*") if p.is_file() and p.parent.name in ("cur", "new")}


@pytest.fixture()
def store(tmp_path):
    """A live store, a manifest of it, a staged copy (the snapshot), then one message lost per mailbox."""
    vmail = tmp_path / "vmail"
    for n, address in enumerate(BOXES):
        md = maildir(vmail, address)
        for sub in ("cur", "new", "tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp"):
            (md / sub).mkdir(parents=True)
        (md / "cur" / f"17000000{n}0.M1P1.mail:2,S").write_bytes(f"Subject: Công văn {n}\n\nx\n".encode())
        (md / "new" / f"17000000{n}1.M2P1.mail").write_bytes(f"Subject: Giấy mời {n}\n\ny\n".encode())
        (md / ".Sent" / "cur" / f"17000000{n}2.M3P1.mail:2,S").write_bytes(b"Subject: sent\n\nz\n")
    manifest = tmp_path / "state" / "manifest.json"
    rc, out = tool("manifest", "--vmail", str(vmail), "--out", str(manifest))
    assert rc == 0 and out["messages"] == 9, out
    stage = tmp_path / "stage"
    shutil.copytree(vmail, stage / str(vmail).lstrip("/"))
    before = {a: names(vmail, a) for a in BOXES}
    for address in BOXES:  # the user deletes a message after the snapshot
        next((maildir(vmail, address) / "new").iterdir()).unlink()
    return {"vmail": vmail, "manifest": manifest, "stage": stage, "before": before}


def test_verify_counts_only_the_listed_mailboxes(store):
    rc, out = tool("verify", "--manifest", str(store["manifest"]), "--root", str(store["vmail"]), "--scope", SCOPE)
    assert rc == 1
    assert out["mailboxes"] == 2 and out["expected"] == 6 and out["present"] == 4
    assert sorted(m.split()[0] for m in out["missing"]) == ["luutru@gialai.gov.vn", "vanphong@gialai.gov.vn"]
    rc, out = tool("verify", "--manifest", str(store["manifest"]), "--root", str(store["vmail"]),
                   "--scope", "mailboxes:sonoivu@gialai.gov.vn")
    assert rc == 1 and out["mailboxes"] == 1 and out["missing"][0].startswith("sonoivu@gialai.gov.vn ")


def test_merge_restores_only_the_listed_mailboxes(store):
    owner = pwd.getpwuid(os.getuid()).pw_name
    rc, out = tool("merge", "--manifest", str(store["manifest"]), "--stage", str(store["stage"]),
                   "--vmail", str(store["vmail"]), "--owner", owner, "--scope", SCOPE)
    assert rc == 0, out
    assert out["mailboxes_restored"] == ["luutru@gialai.gov.vn", "vanphong@gialai.gov.vn"]
    assert out["moved"] == 2 and out["already_present"] == 4
    assert out["missing"] == [] and out["changed"] == []
    for address in ("vanphong@gialai.gov.vn", "luutru@gialai.gov.vn"):
        assert names(store["vmail"], address) == store["before"][address]
    # the mailbox outside the scope still lacks its message
    left = names(store["vmail"], "sonoivu@gialai.gov.vn")
    assert len(left) == 2 and left < store["before"]["sonoivu@gialai.gov.vn"]


@pytest.mark.parametrize("scope, words", [("mailboxes:", "names no mailbox"), ("mailboxes: , ", "names no mailbox"),
                                          ("agency:VP", "mailboxes:<address>,<address>")])
def test_an_empty_or_unknown_scope_is_refused(store, scope, words):
    rc, out = tool("verify", "--manifest", str(store["manifest"]), "--root", str(store["vmail"]), "--scope", scope)
    assert rc != 0 and words in out


def snapshot_of(path: Path) -> dict:
    """Owner, mode and content of a directory tree, without following links."""
    return {str(p.relative_to(path)): (p.lstat().st_uid, p.lstat().st_mode, p.read_bytes() if p.is_file() else None)
            for p in [path, *path.rglob("*")]}


@pytest.mark.control("BAK-12")
@pytest.mark.parametrize("where", ["mailbox", "folder"])
def test_merge_never_follows_a_link_out_of_the_store(store, tmp_path, where):
    """The mail owner swaps a mailbox directory (or its cur/) for a link to a directory outside the store:
    the merge leaves that directory as it was (owner, mode, content), restores the other mailboxes and
    reports the link; a link in the stage is not moved either."""
    # As root the merge would hand files to `nobody`: a followed link would change their owner.
    owner = "nobody" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
    outside = tmp_path / "usr-local-sbin"
    outside.mkdir(mode=0o755)
    outside.chmod(0o755)
    (outside / "mail-restic").write_text("#!/bin/sh\necho root's tool\n")
    (outside / "mail-restic").chmod(0o755)
    before = snapshot_of(outside)
    userdir = maildir(store["vmail"], "vanphong@gialai.gov.vn").parent
    if where == "mailbox":
        planted = userdir
        shutil.rmtree(userdir)
    else:
        planted = userdir / "Maildir" / "new"
        shutil.rmtree(planted)
    planted.symlink_to(outside)
    secret = tmp_path / "secret"
    secret.write_text("root only\n")
    stage_luutru = maildir(store["stage"] / str(store["vmail"]).lstrip("/"), "luutru@gialai.gov.vn")
    (stage_luutru / "cur" / "1700000099.M9P9.mail:2,S").symlink_to(secret)
    rc, out = tool("merge", "--manifest", str(store["manifest"]), "--stage", str(store["stage"]),
                   "--vmail", str(store["vmail"]), "--owner", owner, "--scope", "all")
    assert rc == 1, out
    assert str(planted) in out["links_refused"], out
    assert str(stage_luutru / "cur" / "1700000099.M9P9.mail:2,S") in out["links_refused"], out
    assert snapshot_of(outside) == before, "the directory the link points to was changed"
    assert planted.is_symlink()
    assert "vanphong@gialai.gov.vn" not in out["mailboxes_restored"]
    assert out["mailboxes_restored"] == ["luutru@gialai.gov.vn", "sonoivu@gialai.gov.vn"]
    assert not (maildir(store["vmail"], "luutru@gialai.gov.vn") / "cur" / "1700000099.M9P9.mail:2,S").exists()
    for address in ("luutru@gialai.gov.vn", "sonoivu@gialai.gov.vn"):
        assert names(store["vmail"], address) == store["before"][address]


SIEVE_USER = "vanphong@gialai.gov.vn"
FILTER = 'require ["fileinto", "mailbox"];\nif header :contains "subject" "[Lọc]" { fileinto :create "Thư lọc"; }\n'
AWAY = 'require ["vacation"];\nvacation :days 1 "Tôi vắng mặt.";\n'


def sieve_home(vmail: Path) -> Path:
    """The user's home as Pigeonhole leaves it: two scripts, the active one linked relative, a compiled one."""
    home = maildir(vmail, SIEVE_USER).parent
    (home / "sieve" / "tmp").mkdir(parents=True)
    (home / "sieve" / "Lọc thư.sieve").write_text(FILTER)
    (home / "sieve" / "Vắng mặt.sieve").write_text(AWAY)
    (home / "sieve" / "Lọc thư.svbin").write_bytes(b"compiled")
    (home / "sieve" / "tmp" / "half.sieve").write_text("req")
    (home / ".dovecot.lda-dupes").write_bytes(b"dupes")
    (home / ".dovecot.sieve").symlink_to("sieve/Lọc thư.sieve")
    return home


@pytest.mark.control("BAK-01")
def test_merge_brings_back_the_sieve_scripts_and_the_active_one(tmp_path):
    """A rebuilt host (no home at all): every script, Dovecot's file beside them and the active link come
    back, owned by the mail owner; a compiled script and Pigeonhole's tmp/ do not. A second merge adds
    nothing, and a live home whose user changed scripts after the snapshot keeps what the user made."""
    owner = pwd.getpwuid(os.getuid()).pw_name
    vmail, stage = tmp_path / "vmail", tmp_path / "stage"
    md = maildir(vmail, SIEVE_USER)
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True)
    (md / "cur" / "1700000001.M1P1.mail:2,S").write_bytes(b"Subject: x\n\nx\n")
    sieve_home(vmail)
    manifest = tmp_path / "state" / "manifest.json"
    assert tool("manifest", "--vmail", str(vmail), "--out", str(manifest))[0] == 0
    snapshot = tmp_path / "snapshot"
    shutil.copytree(vmail, snapshot, symlinks=True)
    shutil.rmtree(vmail)
    vmail.mkdir()

    def merge():  # restic restores the snapshot into an empty stage each time (restore.yml)
        shutil.rmtree(stage, ignore_errors=True)
        shutil.copytree(snapshot, stage / str(vmail).lstrip("/"), symlinks=True)
        return tool("merge", "--manifest", str(manifest), "--stage", str(stage), "--vmail", str(vmail),
                    "--owner", owner)

    rc, out = merge()
    assert rc == 0, out
    assert out["sieve_active_links"] == 1 and out["links_refused"] == [], out
    home = maildir(vmail, SIEVE_USER).parent
    assert os.readlink(home / ".dovecot.sieve") == "sieve/Lọc thư.sieve"
    assert (home / ".dovecot.sieve").read_text() == FILTER
    assert (home / "sieve" / "Vắng mặt.sieve").read_text() == AWAY
    assert (home / ".dovecot.lda-dupes").read_bytes() == b"dupes"
    assert not (home / "sieve" / "Lọc thư.svbin").exists() and not (home / "sieve" / "tmp").exists()
    for path in (home / "sieve", home / "sieve" / "Vắng mặt.sieve", home / ".dovecot.sieve"):
        assert path.lstat().st_uid == os.getuid()
    assert (home / "sieve").stat().st_mode & 0o777 == 0o700
    assert (home / "sieve" / "Vắng mặt.sieve").stat().st_mode & 0o777 == 0o600
    # Again: nothing is added. After the user switched to the out-of-office script and rewrote the
    # filter: the restore keeps both changes.
    rc, out = merge()
    assert rc == 0 and out["sieve_active_links"] == 0 and out["files_copied"] == 0, out
    (home / ".dovecot.sieve").unlink()
    (home / ".dovecot.sieve").symlink_to("sieve/Vắng mặt.sieve")
    (home / "sieve" / "Lọc thư.sieve").write_text("keep;\n")
    rc, out = merge()
    assert rc == 0 and out["sieve_active_links"] == 0, out
    assert os.readlink(home / ".dovecot.sieve") == "sieve/Vắng mặt.sieve"
    assert (home / "sieve" / "Lọc thư.sieve").read_text() == "keep;\n"


@pytest.mark.control("BAK-12")
@pytest.mark.parametrize("target", ["../../../../outside/tool", "/etc/shadow", "sieve/../../other/sieve/x.sieve",
                                    "sieve/missing.sieve"])
def test_merge_remakes_no_active_link_that_leaves_the_users_scripts(tmp_path, target):
    """An active-script link in the snapshot that points anywhere but a script of the user's own sieve/
    (planted by code running as the mail owner before the backup) is not remade, and is reported."""
    owner = pwd.getpwuid(os.getuid()).pw_name
    vmail, stage = tmp_path / "vmail", tmp_path / "stage"
    md = maildir(vmail, SIEVE_USER)
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True)
    home = sieve_home(vmail)
    (home / ".dovecot.sieve").unlink()
    (home / ".dovecot.sieve").symlink_to(target)
    manifest = tmp_path / "state" / "manifest.json"
    assert tool("manifest", "--vmail", str(vmail), "--out", str(manifest))[0] == 0
    shutil.copytree(vmail, stage / str(vmail).lstrip("/"), symlinks=True)
    shutil.rmtree(vmail)
    vmail.mkdir()
    rc, out = tool("merge", "--manifest", str(manifest), "--stage", str(stage), "--vmail", str(vmail),
                   "--owner", owner)
    assert rc == 1 and out["sieve_active_links"] == 0, out
    assert out["links_refused"] == [str(stage / str(home).lstrip("/") / ".dovecot.sieve")], out
    assert not os.path.lexists(home / ".dovecot.sieve")
    assert (home / "sieve" / "Lọc thư.sieve").read_text() == FILTER
