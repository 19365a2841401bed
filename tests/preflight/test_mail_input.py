"""Bad mail_* data stops the run at its own argument spec (roles/mail), the first check of
site.yml and accounts.yml, with a message that names the variable, before any other role's
checks and before any host is contacted."""

from __future__ import annotations

import pytest

from tests.helpers.labdata import lab_mail

_LAB = lab_mail()
MAIL_SPEC_TASK = "TASK [mail : Validating arguments against arg spec 'validate'"
MAIL_CHECKS_TASK = "TASK [mail : Check the input of the mail role]"


def _stopped_first(result, task=MAIL_SPEC_TASK):
    """Stopped before any host, at the mail role, before any other role's checks ran."""
    out = result.stdout + result.stderr
    assert result.returncode != 0, out[-3000:]
    assert "UNREACHABLE" not in out, "the input checks let bad input reach a host:\n" + out[-3000:]
    assert "PLAY [Deploy the mail hosts]" not in out and "PLAY [Apply the account changes]" not in out, out[-3000:]
    assert task in out, out[-3000:]
    after = out.split(task, 1)[1]
    assert "TASK [base :" not in after and "TASK [tls :" not in after and "TASK [postfix :" not in after, out[-3000:]
    return out


@pytest.mark.parametrize("playbook", ["site.yml", "accounts.yml"])
def test_wrong_type(run_site, playbook):
    out = _stopped_first(run_site({"mail_retention_months": "six"}, playbook=playbook))
    assert ("argument 'mail_retention_months' is of type str and we were unable to convert to int: "
            "\"'six'\" cannot be converted to an int" in out), out[-3000:]


def test_apt_lock_wait_not_positive(run_site):
    out = _stopped_first(run_site({"mail_apt_lock_timeout": 0}), MAIL_CHECKS_TASK)
    assert "mail_apt_lock_timeout 0 must be a positive number of seconds" in out, out[-3000:]


def test_missing_required_value(run_site):
    out = _stopped_first(run_site(mail_unset=("mail_hostname",)))
    assert "missing required arguments: mail_hostname" in out, out[-3000:]


@pytest.mark.control("ACC-03")
def test_unknown_field_of_a_listed_account(run_site):
    accounts = _LAB["accounts"] + [{"address": "thuky@gialai.gov.vn", "password": "Hop#Le2026abc",
                                    "quota_clas": "leader"}]
    out = _stopped_first(run_site(mail_overrides={"mail_accounts": accounts, "mail_aliases": _LAB["aliases"]}),
                         MAIL_CHECKS_TASK)
    # the account and the field, not only the variable (the argument spec's own message named only that)
    assert ("mail_accounts: account 'thuky@gialai.gov.vn' has unknown field(s) quota_clas; known: address, "
            "agency, departed_on, name, password, password_hash, quota, role, senders, shared, state" in out), out[-3000:]


def test_no_accounts_given(run_site):
    out = _stopped_first(run_site(mail_unset=("mail_agencies", "mail_people", "mail_lists")), MAIL_CHECKS_TASK)
    assert ("no accounts: describe the province as mail_agencies (with mail_people, mail_lists) or list "
            "mail_accounts (and mail_aliases) literally" in out), out[-3000:]
