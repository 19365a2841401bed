"""mail-password (roles/dovecot), the store's password-change service, run here against a socket pair.

Dovecot's verdict on the current password is stubbed (the edge scenario asks the real one); the
rest is the program the role installs: the poppassd conversation Roundcube's driver speaks, the
policy's message (the preflight's own, byte for byte), the own password file and the queue of
sessions to end, and `prune` (resets, accounts that may no longer log in).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import io
import json
import pathlib
import socket
import sys
import threading

import pytest
from ansible.errors import AnsibleFilterError
from passlib.hash import bcrypt, sha512_crypt

from ansible_collections.gialai.mail.plugins.plugin_utils.passwords import mail_password_policy

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "roles/dovecot/files/usr/local/lib/mail-password/mail-password"
USER = "locnv@gialai.gov.vn"
OLD = "Loc-Nguyen#26x"


def _load():
    # on a store password_policy.py sits beside the program (the role copies it there)
    sys.path.insert(0, str(ROOT / "plugins" / "plugin_utils"))
    loader = importlib.machinery.SourceFileLoader("mail_password_program", str(PROGRAM))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


PROG = _load()


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    (tmp_path / "changed").mkdir()
    monkeypatch.setattr(PROG, "wait_for_dovecot_to_see", lambda written: None)
    monkeypatch.setattr(PROG, "log", lambda *a, **k: None)
    return {"policy": {"min_length": 8, "min_classes": 3, "weak": ["Gialai#2030x"]}, "scheme": "BLF-CRYPT",
            "own_file": str(tmp_path / "users"), "queue_dir": str(tmp_path / "changed"),
            "lock_file": str(tmp_path / ".lock"), "auth_socket": str(tmp_path / "auth")}


def converse(cfg, monkeypatch, lines: list[str], accepted: bool = True) -> list[str]:
    """Roundcube's side: read the banner, then send each line while the answers are 2xx/3xx."""
    monkeypatch.setattr(PROG, "dovecot_accepts", lambda path, user, password: accepted and password == OLD)
    ours, theirs = socket.socketpair()
    server = threading.Thread(target=PROG.serve, args=(cfg, theirs))
    server.start()
    stream = ours.makefile("rwb")
    said = [stream.readline().decode().strip()]
    for line in lines:
        if not said[-1].startswith(("2", "3")):
            break
        stream.write(line.encode() + b"\r\n")
        stream.flush()
        said.append(stream.readline().decode().strip())
    server.join(10)
    ours.close()
    theirs.close()
    return said


def preflight_message(password: str) -> str:
    with pytest.raises(AnsibleFilterError) as refused:
        mail_password_policy(password, 8, 3, ["Gialai#2030x"], name=USER)
    return str(refused.value)


@pytest.mark.control("WEB-15")
@pytest.mark.parametrize("weak", ["short1A", "locnv-2027-Mail", "gialai#2030X", "chi co chu thuong"])
def test_a_weak_password_is_refused_with_the_preflights_message(cfg, monkeypatch, weak):
    said = converse(cfg, monkeypatch, [f"user {USER}", f"pass {OLD}", f"newpass {weak}"])
    assert said[:3] == ["200 mail-password ready", "200 the current password, please", "200 the new password, please"]
    assert said[3] == f"500 {preflight_message(weak)}"
    assert not pathlib.Path(cfg["own_file"]).exists() and not list(pathlib.Path(cfg["queue_dir"]).iterdir())


@pytest.mark.control("WEB-15")
def test_a_wrong_current_password_is_refused_before_the_new_one(cfg, monkeypatch):
    said = converse(cfg, monkeypatch, [f"user {USER}", "pass wrong-Password#1", "newpass Ke-Hoach#2027zq"])
    assert said[-1] == "500 the current password is not correct" and len(said) == 3
    assert not pathlib.Path(cfg["own_file"]).exists()


@pytest.mark.control("WEB-16")
@pytest.mark.parametrize("scheme,handler", [("BLF-CRYPT", bcrypt), ("SHA512-CRYPT", sha512_crypt)])
def test_a_good_password_is_hashed_into_the_own_file_and_the_account_queued(cfg, monkeypatch, scheme, handler):
    cfg["scheme"] = scheme
    pathlib.Path(cfg["own_file"]).write_text("hoatt@gialai.gov.vn:{SHA512-CRYPT}$6$x$y\n")
    said = converse(cfg, monkeypatch, [f"user {USER.upper()}", f"pass {OLD}", "newpass Ke-Hoach#2027zq"])
    assert said[-1] == "200 password changed"
    lines = [ln for ln in pathlib.Path(cfg["own_file"]).read_text().splitlines() if not ln.startswith("#")]
    entries = dict(ln.split(":", 1) for ln in lines)
    assert set(entries) == {USER, "hoatt@gialai.gov.vn"}  # lower case; the other user's entry kept
    assert entries[USER].startswith("{" + scheme + "}")
    assert handler.verify("Ke-Hoach#2027zq", entries[USER].split("}", 1)[1])
    assert pathlib.Path(cfg["own_file"]).stat().st_mode & 0o777 == 0o640
    assert [p.name for p in pathlib.Path(cfg["queue_dir"]).iterdir()] == [USER]


def test_the_same_password_again_is_refused(cfg, monkeypatch):
    said = converse(cfg, monkeypatch, [f"user {USER}", f"pass {OLD}", f"newpass {OLD}"])
    assert said[-1] == "500 the new password is the current one"


@pytest.mark.control("WEB-17")
def test_prune_removes_resets_and_accounts_that_may_not_log_in_and_nothing_else(cfg, monkeypatch):
    own = pathlib.Path(cfg["own_file"])
    own.write_text("a@gialai.gov.vn:{X}1\nb@gialai.gov.vn:{X}2\nc@gialai.gov.vn:{X}3\n")

    def prune(request):
        monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(request)))
        out = io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        assert PROG.prune(cfg) == 0
        return json.loads(out.getvalue())["removed"]

    keep = ["a@gialai.gov.vn", "B@gialai.gov.vn", "c@gialai.gov.vn"]
    assert prune({"keep": keep, "reset": [], "check": False}) == []  # a re-run changes nothing
    assert prune({"keep": keep, "reset": ["b@gialai.gov.vn"], "check": True}) == ["b@gialai.gov.vn"]
    assert "b@gialai.gov.vn" in own.read_text()  # --check writes nothing
    assert prune({"keep": keep[:2], "reset": ["B@gialai.gov.vn"], "check": False}) == [
        "b@gialai.gov.vn", "c@gialai.gov.vn"]
    assert [ln.split(":")[0] for ln in own.read_text().splitlines() if not ln.startswith("#")] == ["a@gialai.gov.vn"]
    assert sorted(p.name for p in pathlib.Path(cfg["queue_dir"]).iterdir()) == ["b@gialai.gov.vn", "c@gialai.gov.vn"]


def test_the_role_installs_the_preflights_policy_beside_the_program():
    tasks = (ROOT / "roles/dovecot/tasks/password_change.yml").read_text()
    assert "{{ role_path }}/../../plugins/plugin_utils/password_policy.py" in tasks
    assert (ROOT / "roles/dovecot/../../plugins/plugin_utils/password_policy.py").resolve().is_file()
