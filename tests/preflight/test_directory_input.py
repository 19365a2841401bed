"""The lab, described as agencies and people (inventories/lab/group_vars/all/mail.yml),
goes through the preflight checks of site.yml and accounts.yml; bad directory data
stops the run before any host is contacted, naming the person."""

from __future__ import annotations

import copy

import pytest
import yaml

from conftest import ROOT
from tests.helpers.preflight import stopped_before_any_host

DIRECTORY = yaml.safe_load((ROOT / "inventories" / "lab" / "group_vars" / "all" / "mail.yml").read_text())
assert "mail_agencies" in DIRECTORY and "mail_accounts" not in DIRECTORY, "the lab is a directory"
DEPLOY_PLAYS = ("PLAY [Deploy the mail hosts]", "PLAY [Apply the account changes]")


def _with_person(**person):
    data = copy.deepcopy(DIRECTORY)
    data["mail_people"].append(person)
    return data


@pytest.mark.control("ACC-07")
@pytest.mark.parametrize("playbook", ["site.yml", "accounts.yml"])
def test_lab_as_a_directory_passes_the_checks(run_site, playbook):
    result = run_site(mail_overrides=DIRECTORY, playbook=playbook)
    out = result.stdout + result.stderr
    assert "Build the account directory" in out, out[-3000:]
    assert any(play in out for play in DEPLOY_PLAYS), out[-3000:]
    assert "UNREACHABLE" in out  # the checks passed; the fake host is then (rightly) unreachable


@pytest.mark.control("ACC-03", "ACC-07")
@pytest.mark.parametrize("playbook", ["site.yml", "accounts.yml"])
def test_unknown_agency_names_the_person(run_site, playbook):
    data = _with_person(name="Võ Thị Lan", agency="SYT")
    out = stopped_before_any_host(run_site(mail_overrides=data, playbook=playbook), DEPLOY_PLAYS)
    assert "person 'Võ Thị Lan' has unknown agency 'SYT'" in out


@pytest.mark.control("ACC-03", "ACC-07")
def test_unknown_quota_class_names_the_person(run_site):
    data = _with_person(name="Võ Thị Lan", agency="VP", quota_class="vip")
    out = stopped_before_any_host(run_site(mail_overrides=data), DEPLOY_PLAYS)
    assert "person 'Võ Thị Lan' of agency 'VP' has unknown quota class 'vip'" in out


@pytest.mark.control("ACC-07")
def test_collisions_are_reported(run_site):
    data = _with_person(name="Nguyễn Vũ Lộc", agency="VP")
    result = run_site(mail_overrides=data, extra={"vault_mail_passwords": {
        **yaml.safe_load((ROOT / "inventories" / "lab" / "group_vars" / "all" / "vault.yml").read_text())[
            "vault_mail_passwords"], "locnv2@gialai.gov.vn": "Loc-Nguyen#26y"}})
    out = result.stdout + result.stderr
    assert "Report the generated addresses that collided" in out
    assert "locnv2@gialai.gov.vn" in out and "Nguyễn Vũ Lộc" in out
    assert "PLAY [Deploy the mail hosts]" in out, out[-3000:]


def _run_production(run_site, **secrets):
    """site.yml on the production example with its placeholders filled, but for the given secrets.

    The administrator's key is a placeholder too, and the run must connect as that
    administrator ('ansible'). The example's backup host is added to the test
    inventory so the repository check finds it.
    """
    vault = yaml.safe_load((ROOT / "inventories" / "production" / "group_vars" / "all" / "vault.yml").read_text())
    passwords = {address: f"Thu#{index:03d}-Gialai2026" for index, address in enumerate(vault["vault_mail_passwords"])}
    admin_key = (ROOT / "inventories" / "lab" / "files" / "ssh" / "lab-admin_ed25519.pub").read_text().strip()
    result = run_site(inventory="production", extra_hosts={"mail_backup": ["backup.gialai.gov.vn"]}, extra={
        "vault_tls_internal_ca_passphrase": "a-real-passphrase-2026", "vault_mail_passwords": passwords,
        "vault_ssh_admin_keys": {"ansible": [admin_key]}, "ansible_user": "ansible", **secrets})
    return result, result.stdout + result.stderr


@pytest.mark.control("ACC-07")
def test_production_directory_passes_the_checks_once_the_secrets_are_set(run_site):
    _result, out = _run_production(
        run_site, vault_backup_passwords={"primary": "restic-primary-2026-x", "offsite": "restic-offsite-2026-y"},
        vault_backup_s3_access_key="AKIAEXAMPLE", vault_backup_s3_secret_key="example-secret")
    assert "TASK [Report the generated addresses that collided" in out, out[-3000:]
    report = out.split("TASK [Report the generated addresses that collided")[1].split("TASK [")[0]
    assert "locnv2@gialai.gov.vn" in report and "base: locnv@gialai.gov.vn" in report, out[-3000:]
    assert "PLAY [Deploy the mail hosts]" in out, out[-3000:]


@pytest.mark.control("BAK-07")
def test_production_backup_placeholders_are_refused(run_site):
    """The example's backup passwords are placeholders: the checks name the repository."""
    result, _out = _run_production(run_site)
    out = stopped_before_any_host(result, DEPLOY_PLAYS)  # the run failed, no deploy play, and no host was contacted
    assert ("backup repository primary: the restic password is missing or shorter than 12 characters "
            "(set it in vault; losing it loses the backups)" in out), out[-3000:]
