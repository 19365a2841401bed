"""Secrets are never printed (CFG-04), at -vvv, whether the run fails or not.

Every secret of the inventory (restic passwords, S3 keys, the internal CA's
passphrase, mail passwords, DKIM private keys) is set to a unique marker and
the run happens at verbosity 3 with Ansible's log file on: no marker may appear
in stdout, stderr or the log. Each failing case stops at the check that reads
the secret, which must still say what is wrong (naming the repository, never
the value). No host is contacted.
"""

from __future__ import annotations

import pytest
import yaml

from conftest import ROOT

VAULT = yaml.safe_load((ROOT / "inventories" / "lab" / "group_vars" / "all" / "vault.yml").read_text())

MARK = {
    "restic": "MARK-restic-pw-7f3a91c2",
    "restic2": "MARK-restic-pw-copy-0b5e",
    "s3_id": "MARKAKIA5Q2J9ZXW",
    "s3_secret": "MARK-s3-secret-e41d77",
    "ca": "MARK-ca-passphrase-9c20",
    "mail": "MARK-mail-pw-#Q",
    "dkim": "MARKDKIMPEMBODY0a1b2c",
    "url": "MARK-url-pw-55aa",
}
# A short password fails the length check: the marker is the whole password.
SHORT = "MARK-sh0rt"
# A weak mail password (one character class).
WEAK = "markweakpassword"


def _secrets() -> dict:
    return {
        "vault_tls_internal_ca_passphrase": MARK["ca"],
        "vault_mail_passwords": {a: f"{MARK['mail']}{i}x" for i, a in enumerate(VAULT["vault_mail_passwords"])},
        "vault_backup_passwords": {"primary": MARK["restic"], "copy": MARK["restic2"]},
        "dkim_private_keys": {"gialai.gov.vn": {
            "rsa": f"-----BEGIN PRIVATE KEY-----\n{MARK['dkim']}\n-----END PRIVATE KEY-----\n"}},
    }


def _s3(**repo) -> dict:
    """An S3 repository with credentials in env, as production sets one."""
    return {"name": "offsite", "url": "s3:https://s3.example.net/gialai-mail", "password": MARK["restic2"],
            "env": {"AWS_ACCESS_KEY_ID": MARK["s3_id"], "AWS_SECRET_ACCESS_KEY": MARK["s3_secret"]}, **repo}


def _primary(**repo) -> dict:
    return {"name": "primary", "server": "backup.gialai.gov.vn", "password": MARK["restic"], **repo}


@pytest.fixture
def run_vvv(run_site, tmp_path, monkeypatch):
    """run_site at -vvv with Ansible's log file; returns (result, everything printed or logged)."""
    log = tmp_path / "ansible.log"
    monkeypatch.setenv("ANSIBLE_VERBOSITY", "3")
    monkeypatch.setenv("ANSIBLE_LOG_PATH", str(log))

    def run(extra: dict, **kw):
        result = run_site({**_secrets(), **extra}, extra_hosts={"mail_backup": ["backup.gialai.gov.vn"]}, **kw)
        out = result.stdout + result.stderr + (log.read_text() if log.exists() else "")
        assert "TASK [" in out and "task path:" in out, "not a -vvv run:\n" + out[-2000:]
        return result, out

    return run


def _no_marker(out: str) -> None:
    leaked = sorted(name for name, value in {**MARK, "short": SHORT, "weak": WEAK}.items() if value in out)
    assert not leaked, f"secrets printed: {leaked}\n" + "\n".join(
        line for line in out.splitlines() if any(v in line for v in (*MARK.values(), SHORT, WEAK)))[:3000]


def _stopped(result, out: str) -> None:
    assert result.returncode != 0, out[-3000:]
    assert "UNREACHABLE" not in out and "PLAY [Deploy the mail hosts]" not in out, out[-3000:]


@pytest.mark.control("CFG-04")
def test_good_input_with_every_secret_set_prints_none_of_them(run_vvv):
    result, out = run_vvv({"backup_enabled": True, "backup_repositories": [_primary(), _s3()]})
    assert "PLAY [Deploy the mail hosts]" in out and "UNREACHABLE" in out, out[-3000:]  # every check passed
    _no_marker(out)


@pytest.mark.control("CFG-04")
@pytest.mark.parametrize("repo, words", [
    # a URL restic does not know, with credentials in it: named, the credentials not shown
    (_s3(url=f"ftp://backup:{MARK['url']}@files.example.net/mail"),
     "url ftp://***@files.example.net/mail is not a restic repository"),
    (_s3(password=SHORT), "the restic password is missing or shorter than 12 characters"),
    # a bad S3 key: a name that is no variable name, a value that is no string
    (_s3(env={"AWS_ACCESS_KEY_ID": [MARK["s3_id"]], "AWS SECRET KEY": MARK["s3_secret"]}),
     "env must map variable names (A-Z, 0-9, _) to strings (values not shown)"),
])
def test_a_failing_repository_check_names_the_repository_not_its_secrets(run_vvv, repo, words):
    result, out = run_vvv({"backup_enabled": True, "backup_repositories": [_primary(), repo]})
    _stopped(result, out)
    # the repository check's message: the repository's name, then its one problem
    assert f"backup repository offsite: {words}" in out, out[-3000:]
    _no_marker(out)


@pytest.mark.control("CFG-04")
@pytest.mark.parametrize("extra, words", [
    # a bad value next to the secrets: the argument spec stops the run
    ({"backup_enabled": True, "backup_repositories": [_primary(port="twenty-two"), _s3()]},
     "argument 'port' is of type str found in 'backup_repositories'"),
    ({"backup_enabled": True, "backup_repositories": [_primary(), _s3(env=MARK["s3_secret"])]},
     "argument 'env' is of type str found in 'backup_repositories'"),
    # an undefined variable inside a structure that holds secrets
    ({"backup_enabled": True, "backup_repositories": [_primary(), _s3(region="{{ undefined_region }}")]},
     "'undefined_region' is undefined"),
])
def test_an_argument_spec_error_next_to_secrets_prints_none_of_them(run_vvv, extra, words):
    result, out = run_vvv(extra)
    _stopped(result, out)
    assert words in out, out[-3000:]
    _no_marker(out)


@pytest.mark.control("CFG-04")
def test_a_dkim_key_for_a_domain_not_signed_names_the_domain_not_the_key(run_vvv):
    keys = {**_secrets()["dkim_private_keys"], "other.example": {"rsa": f"-----BEGIN PRIVATE KEY-----\n"
                                                                        f"{MARK['dkim']}\n-----END PRIVATE KEY-----\n"}}
    result, out = run_vvv({"dkim_private_keys": keys})
    _stopped(result, out)
    assert "dkim_private_keys['other.example']: must be a signed domain" in out, out[-3000:]
    _no_marker(out)


@pytest.mark.control("CFG-04")
def test_a_short_ca_passphrase_is_named_not_shown(run_vvv):
    result, out = run_vvv({"vault_tls_internal_ca_passphrase": SHORT})
    _stopped(result, out)
    assert "tls_internal_ca_passphrase is missing or shorter than 12 characters" in out, out[-3000:]
    _no_marker(out)


@pytest.mark.control("CFG-04")
def test_a_weak_mail_password_is_named_not_shown(run_vvv):
    weak = dict(_secrets()["vault_mail_passwords"], **{"locnv@gialai.gov.vn": WEAK})
    result, out = run_vvv({"vault_mail_passwords": weak})
    _stopped(result, out)
    assert "password of 'locnv@gialai.gov.vn' is too weak: " in out, out[-3000:]
    assert WEAK not in out
    _no_marker(out)
