"""Who may post to a list: plugins/plugin_utils/posting.py (filters mail_posting_problems, mail_posting_table)."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gialai.mail.plugins.plugin_utils.posting import mail_posting_problems, mail_posting_table
from filter_table import filters_from

LEADERS = ["locnv@gialai.gov.vn", "hoatt@gialai.gov.vn"]


def alias(address, to, **extra):
    return {"address": address, "to": to, **extra}


def test_the_default_is_internal_and_size_counts_final_addresses():
    table = mail_posting_table([alias("LanhDao@gialai.gov.vn", LEADERS)])
    assert table == {"lanhdao@gialai.gov.vn": {"posting": "internal", "size": 2, "allowed": None}}


def test_members_and_senders_name_who_may_post():
    table = mail_posting_table([
        alias("lanhdao@gialai.gov.vn", LEADERS, posting="members"),
        alias("toantinh@gialai.gov.vn", LEADERS + ["tamlt@gialai.gov.vn"], posting="senders",
              posting_senders=["VanPhong@gialai.gov.vn"]),
        alias("hanhchinh@gialai.gov.vn", ["vanphong@gialai.gov.vn"], posting="public"),
    ])
    assert table["lanhdao@gialai.gov.vn"]["allowed"] == sorted(LEADERS)
    assert table["toantinh@gialai.gov.vn"] == {"posting": "senders", "size": 3,
                                               "allowed": ["vanphong@gialai.gov.vn"]}
    assert table["hanhchinh@gialai.gov.vn"] == {"posting": "public", "size": 1, "allowed": None}


def test_nesting_never_widens_a_list():
    # an internal list that contains the leaders' members-only list: posting to the outer one
    # reaches the leaders, so only someone allowed on both may post to it
    table = mail_posting_table([
        alias("lanhdao@gialai.gov.vn", LEADERS, posting="members"),
        alias("ban@gialai.gov.vn", ["lanhdao@gialai.gov.vn", "tamlt@gialai.gov.vn"]),
        alias("vong@gialai.gov.vn", ["vong2@gialai.gov.vn"]),
        alias("vong2@gialai.gov.vn", ["vong@gialai.gov.vn", "locnv@gialai.gov.vn"]),
    ])
    assert table["ban@gialai.gov.vn"] == {"posting": "internal", "size": 3, "allowed": sorted(LEADERS)}
    assert table["vong@gialai.gov.vn"]["size"] == 1  # a cycle ends, it does not loop


@pytest.mark.parametrize("aliases,expected", [
    ([alias("a@gialai.gov.vn", LEADERS, posting="everyone")], "posting 'everyone' is none of"),
    ([alias("a@gialai.gov.vn", LEADERS, posting="senders")], "needs posting_senders"),
    ([alias("a@gialai.gov.vn", LEADERS, posting="senders", posting_senders=["not an address"])],
     "malformed addresses ['not an address']"),
    ([alias("a@gialai.gov.vn", LEADERS, posting_senders=["locnv@gialai.gov.vn"])],
     "only for posting 'senders' (it is 'internal')"),
    ([alias("a@gialai.gov.vn", ["lanhdao@gialai.gov.vn"], posting="public"), alias("lanhdao@gialai.gov.vn", LEADERS)],
     "public alias 'a@gialai.gov.vn' reaches the non-public ['lanhdao@gialai.gov.vn']"),
])
def test_problems_name_the_alias_and_the_fault(aliases, expected):
    problems = mail_posting_problems(aliases)
    assert len(problems) == 1 and expected in problems[0], problems
    with pytest.raises(AnsibleFilterError, match="wrong posting policies"):
        mail_posting_table(aliases)


def test_a_public_alias_of_public_ones_is_fine():
    aliases = [alias("a@gialai.gov.vn", ["b@gialai.gov.vn"], posting="public"),
               alias("b@gialai.gov.vn", ["vanphong@gialai.gov.vn"], posting="public")]
    assert mail_posting_problems(aliases) == []


def test_not_a_list_is_an_error():
    with pytest.raises(AnsibleFilterError, match="expected the list of aliases"):
        mail_posting_problems({"a": 1})


def test_filters_are_registered():
    assert set(filters_from("posting")) == {"mail_posting_problems", "mail_posting_table", "mail_posting_restricted"}
