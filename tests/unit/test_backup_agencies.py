"""The backup_client role's check of backup_agencies (agency code -> its mailboxes): the filter
mail_backup_agency_problems (plugins/plugin_utils/backup.py) that replaced a for-loop in
roles/backup_client/tasks/validate.yml.

The loop is kept below (OLD_BAD) and rendered through Ansible beside the filter: the same entries,
the same text, for every input set; then the check's whole message is rendered as the role's task
renders it.
"""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.gialai.mail.plugins.plugin_utils.backup import mail_backup_agency_problems
from tests.unit.test_backup_repositories import _trusted, template

ROOT = pathlib.Path(__file__).resolve().parents[2]
VALIDATE = ROOT / "roles" / "backup_client" / "tasks" / "validate.yml"

# roles/backup_client/tasks/validate.yml before the filter (session 17).
OLD_BAD = """\
{%- set bad = [] -%}
{%- for code, boxes in (backup_agencies.items() if backup_agencies is mapping else []) -%}
{%- if boxes is string or boxes is mapping or boxes is not sequence
      or boxes | reject('string') | list | length > 0
      or boxes | reject('match', '^[^@\\\\s/]+@[a-z0-9.-]+$') | list | length > 0 -%}
{%- set _ = bad.append(code ~ ' ' ~ (boxes | string | truncate(80))) -%}
{%- endif -%}
{%- endfor -%}
{{ bad }}"""

LONG = [f"nhanvien{n:02d}@sonoivu.gialai.gov.vn" for n in range(6)]
AGENCY_SETS = {
    "lab": {"VP": ["hoatt@gialai.gov.vn", "locnv@gialai.gov.vn", "luutru@gialai.gov.vn", "vanphong@gialai.gov.vn"],
            "VP-LT": ["luutru@gialai.gov.vn"]},
    "empty": {},
    "agency_without_mailboxes": {"VP": ["vanphong@gialai.gov.vn"], "VP-LT": []},
    "a_string": {"VP": "vanphong@gialai.gov.vn"},
    "a_mapping": {"VP": {"vanphong@gialai.gov.vn": True}},
    "null_and_number": {"VP": None, "SNV": 7},
    "not_strings": {"VP": ["vanphong@gialai.gov.vn", 5, None]},
    "not_addresses": {"VP": ["Van Phong@gialai.gov.vn", "vanphong", "a/b@gialai.gov.vn", "x@GIALAI.gov.vn",
                             "@gialai.gov.vn", "x@gialai_gov.vn"]},
    "newline_after_address": {"VP": ["vanphong@gialai.gov.vn\n"]},
    "long_bad_value": {"SNV": LONG + ["not an address"], "STC": ["sotaichinh@gialai.gov.vn"] * 3 + ["X"]},
    "exactly_85": {"VP": ["a" * 67 + "@GIALAI.gov.vn"]},  # str() of it is 85 characters: kept whole
    "exactly_86": {"VP": ["a" * 68 + "@GIALAI.gov.vn"]},
    "no_space_to_cut_at": {"VP": ["x" * 120]},
    "number_codes": {2026: "x", "VP": ["vanphong@gialai.gov.vn"]},
    "a_list": ["VP"],
    "a_string_only": "VP: vanphong@gialai.gov.vn",
    "null": None,
}


def _check_task() -> dict:
    checks = yaml.safe_load(VALIDATE.read_text())[0]["gialai.mail.checks"]["checks"]
    return next(c for c in checks if c["name"].startswith("Check the agencies' mailboxes"))


@pytest.mark.parametrize("name", list(AGENCY_SETS))
def test_the_filter_gives_what_the_loop_gave(name):
    variables = {"backup_agencies": AGENCY_SETS[name]}
    new = template("{{ backup_agencies | mail_backup_agency_problems }}", variables)
    assert new == template(OLD_BAD, variables)
    assert new == mail_backup_agency_problems(AGENCY_SETS[name])


@pytest.mark.parametrize("name", list(AGENCY_SETS))
def test_the_check_says_what_it_said(name):
    """The role's check (its conditions and its message) over the filter, against the same over the loop."""
    check = _check_task()
    assert check["vars"] == {"__bad": "{{ backup_agencies | mail_backup_agency_problems }}"}
    for bad in (check["vars"]["__bad"], OLD_BAD):
        variables = {"backup_agencies": AGENCY_SETS[name], "__bad": _trusted(bad)}
        passed = all(template("{{ " + c + " }}", variables) for c in check["that"])
        said = template(check["msg"], variables)
        if bad == OLD_BAD:
            assert (passed, said) == result, name
        result = (passed, said)


def test_what_the_filter_names():
    assert mail_backup_agency_problems(AGENCY_SETS["lab"]) == []
    assert mail_backup_agency_problems(AGENCY_SETS["agency_without_mailboxes"]) == []
    assert mail_backup_agency_problems(AGENCY_SETS["a_string"]) == ["VP vanphong@gialai.gov.vn"]
    assert mail_backup_agency_problems(AGENCY_SETS["null_and_number"]) == ["VP None", "SNV 7"]
    assert mail_backup_agency_problems(AGENCY_SETS["not_strings"]) == ["VP ['vanphong@gialai.gov.vn', 5, None]"]
    assert mail_backup_agency_problems({"VP": ["x@GIALAI.gov.vn"], "VP-LT": ["luutru@gialai.gov.vn"]}) == \
        ["VP ['x@GIALAI.gov.vn']"]
    long = mail_backup_agency_problems(AGENCY_SETS["long_bad_value"])
    assert long[0] == "SNV ['nhanvien00@sonoivu.gialai.gov.vn', 'nhanvien01@sonoivu.gialai.gov.vn',..."
    assert long[1] == "STC ['sotaichinh@gialai.gov.vn', 'sotaichinh@gialai.gov.vn',..."
    assert mail_backup_agency_problems(AGENCY_SETS["exactly_85"]) == ["VP ['" + "a" * 67 + "@GIALAI.gov.vn']"]
    assert mail_backup_agency_problems(AGENCY_SETS["exactly_86"]) == ["VP ['" + "a" * 68 + "@GIALAI..."]
    assert mail_backup_agency_problems(AGENCY_SETS["no_space_to_cut_at"]) == ["VP ['" + "x" * 75 + "..."]
    for not_a_mapping in ("a_list", "a_string_only", "null"):
        assert mail_backup_agency_problems(AGENCY_SETS[not_a_mapping]) == []
