"""The postfix role's check that the aliases whose posting policy the submission policy service
applies (members, senders) come with that service on: the filter mail_posting_restricted
(plugins/plugin_utils/posting.py) replaced a chain of two selectattr in roles/postfix/tasks/validate.yml.

The chain is kept below (OLD_RESTRICTED) and rendered through Ansible beside the check as the role
holds it: the same list, the same verdict and the same message, with the service on and off.
"""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.gialai.mail.plugins.plugin_utils.posting import mail_posting_restricted
from tests.unit.test_backup_repositories import _trusted, template

ROOT = pathlib.Path(__file__).resolve().parents[2]
VALIDATE = ROOT / "roles" / "postfix" / "tasks" / "validate.yml"

# roles/postfix/tasks/validate.yml before the filter (session 17).
OLD_RESTRICTED = """\
{{ postfix_aliases | selectattr('posting', 'defined') | selectattr('posting', 'in', ['members', 'senders'])
   | map(attribute='address') | list }}"""

LEADERS = ["locnv@gialai.gov.vn", "hoatt@gialai.gov.vn"]
ALIAS_SETS = {
    "none": [],
    "internal_only": [{"address": "vanthu@gialai.gov.vn", "to": LEADERS}],
    "every_policy": [
        {"address": "lanhdao@gialai.gov.vn", "to": LEADERS, "posting": "members"},
        {"address": "vanthu@gialai.gov.vn", "to": LEADERS, "posting": "internal"},
        {"address": "toantinh@gialai.gov.vn", "to": LEADERS, "posting": "senders",
         "posting_senders": ["vanphong@gialai.gov.vn"]},
        {"address": "hanhchinh@gialai.gov.vn", "to": LEADERS, "posting": "public"},
        {"address": "ban@gialai.gov.vn", "to": LEADERS}],
    "odd_values": [
        {"address": "a@gialai.gov.vn", "to": LEADERS, "posting": "Members"},
        {"address": "b@gialai.gov.vn", "to": LEADERS, "posting": None},
        {"address": "c@gialai.gov.vn", "to": LEADERS, "posting": ["members"]},
        {"address": "d@gialai.gov.vn", "to": LEADERS, "posting": "senders"}],
}


def _check() -> dict:
    checks = yaml.safe_load(VALIDATE.read_text())[0]["gialai.mail.checks"]["checks"]
    return next(c for c in checks if c["name"] == "Check the posting policy of every alias")


@pytest.mark.parametrize("ratelimit", [True, False], ids=["service_on", "service_off"])
@pytest.mark.parametrize("name", list(ALIAS_SETS))
def test_the_check_says_what_the_chain_said(name, ratelimit):
    check = _check()
    assert check["vars"]["__postfix_restricted"] == "{{ postfix_aliases | mail_posting_restricted }}"
    results = []
    for restricted in (check["vars"]["__postfix_restricted"], OLD_RESTRICTED):
        variables = {"postfix_aliases": ALIAS_SETS[name], "postfix_ratelimit_enabled": ratelimit,
                     "__postfix_restricted": _trusted(restricted)}
        passed = all(template("{{ " + c + " }}", variables) for c in check["that"])
        results.append((template("{{ __postfix_restricted }}", variables), passed,
                        None if passed else template(check["msg"], variables)))
    assert results[0] == results[1]
    assert results[0][0] == mail_posting_restricted(ALIAS_SETS[name])


def test_what_the_filter_gives():
    assert mail_posting_restricted(ALIAS_SETS["every_policy"]) == ["lanhdao@gialai.gov.vn", "toantinh@gialai.gov.vn"]
    assert mail_posting_restricted(ALIAS_SETS["odd_values"]) == ["d@gialai.gov.vn"]
    assert mail_posting_restricted(["lanhdao@gialai.gov.vn", None]) == []
