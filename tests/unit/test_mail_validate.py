import importlib
import os

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gialai.mail.plugins.plugin_utils import names, validate
from ansible_collections.gialai.mail.plugins.plugin_utils.validate import mail_validate_mailboxes
from filter_table import filters_from

DOMAINS = ["gialai.gov.vn"]
SECRET = "Tr@ngDồng-2024"
HASH = "{BLF-CRYPT}$2y$04$UOSGQMxqatWULzYSsNrLfuzj9XK19keu.kR9tdsUgngtZK5fcXw0C"


def error_of(mailboxes, domains=DOMAINS):
    with pytest.raises(AnsibleFilterError) as exc:
        mail_validate_mailboxes(mailboxes, domains)
    message = str(exc.value)
    assert SECRET not in message and HASH not in message
    return message


def test_valid_list_is_returned_lowercased_as_copies():
    mailboxes = [
        {"address": " LocNV@GiaLai.gov.vn", "password": SECRET, "quota": "2G"},
        {"address": "daott@gialai.gov.vn", "password_hash": HASH},
        {
            "address": "hoa@sotnmt.gialai.gov.vn",
            "password": SECRET,
            "password_hash": HASH,
        },
    ]
    result = mail_validate_mailboxes(
        mailboxes, ["GiaLai.gov.vn", "sotnmt.gialai.gov.vn"]
    )
    assert [m["address"] for m in result] == [
        "locnv@gialai.gov.vn",
        "daott@gialai.gov.vn",
        "hoa@sotnmt.gialai.gov.vn",
    ]
    assert result[0]["quota"] == "2G" and result[0]["password"] == SECRET
    assert mailboxes[0]["address"] == " LocNV@GiaLai.gov.vn"  # input untouched


def test_single_domain_string_is_accepted():
    assert mail_validate_mailboxes(
        [{"address": "a@gialai.gov.vn", "password": SECRET}], "gialai.gov.vn"
    )


def test_empty_mailbox_list_is_fine():
    assert mail_validate_mailboxes([], DOMAINS) == []


def test_outside_served_domains():
    message = error_of([{"address": "x@example.org", "password": SECRET}])
    assert (
        message
        == "mailbox 'x@example.org' is outside the served domains: gialai.gov.vn"
    )


def test_subdomain_is_not_served_implicitly():
    message = error_of([{"address": "x@sotnmt.gialai.gov.vn", "password": SECRET}])
    assert "outside the served domains" in message


def test_no_password():
    message = error_of([{"address": "a@gialai.gov.vn"}])
    assert (
        message
        == "mailbox 'a@gialai.gov.vn' has no password: set password (from vault) or password_hash"
    )
    message = error_of(
        [{"address": "a@gialai.gov.vn", "password": "", "password_hash": None}]
    )
    assert "has no password" in message


def test_duplicate_address_case_insensitive():
    message = error_of(
        [
            {"address": "a@gialai.gov.vn", "password": SECRET},
            {"address": "A@GIALAI.gov.vn", "password": SECRET},
        ]
    )
    assert message == "mailbox 'a@gialai.gov.vn' is listed more than once"


@pytest.mark.parametrize(
    "address",
    [
        "lộc@gialai.gov.vn",
        "a..b@gialai.gov.vn",
        "a@gialai",
        "nodomain",
        "a@b@gialai.gov.vn",
    ],
)
def test_malformed_address(address):
    message = error_of([{"address": address, "password": SECRET}])
    assert message.startswith(f"mailbox '{address.lower()}' has a malformed address")


def test_hash_without_scheme_prefix():
    message = error_of([{"address": "a@gialai.gov.vn", "password_hash": SECRET}])
    assert (
        "'a@gialai.gov.vn' has a password_hash without a Dovecot {SCHEME} prefix"
        in message
    )


def test_first_offender_named_and_all_listed():
    message = error_of(
        [
            {"address": "ok@gialai.gov.vn", "password": SECRET},
            {"address": "x@example.org", "password": SECRET},
            {"address": "nopw@gialai.gov.vn"},
            {"address": "ok@gialai.gov.vn", "password": SECRET},
            "not a mapping",
            {"password": SECRET},
        ]
    )
    assert message.startswith(
        "mailbox 'x@example.org' is outside the served domains: gialai.gov.vn (5 problems in all: "
    )
    for part in ("'nopw@gialai.gov.vn' has no password", "'ok@gialai.gov.vn' is listed more than once",
                 "mailbox #5 is not a mapping", "mailbox #6 has no address"):  # fmt: skip
        assert part in message


@pytest.mark.parametrize(
    "domains", [["gialai"], ["gialai.gov.vn", "-bad.vn"], ["gia lai.vn"], [None]]
)
def test_malformed_served_domain_named(domains):
    bad = domains[-1]
    message = error_of([{"address": "a@gialai.gov.vn", "password": SECRET}], domains)
    assert message == f"served domain '{bad}' is not a valid domain name"


@pytest.mark.parametrize("domains", [[], None, {}])
def test_no_served_domains(domains):
    assert "no served domains" in error_of([], domains)


def test_not_a_list():
    error_of({"address": "a@gialai.gov.vn", "password": SECRET})


def test_shared_rules_come_from_mail_names():
    here = os.path.dirname(os.path.abspath(validate.__file__))
    assert names.__file__ == os.path.join(here, "names.py")
    assert validate.mail_valid_address is names.mail_valid_address
    assert validate.mail_valid_domain is names.mail_valid_domain
    # imported normally: importing twice gives the same module object
    assert importlib.import_module(names.__name__) is names


def test_filter_table():
    assert set(filters_from("validate")) == {
        "mail_validate_mailboxes", "mail_invalid_domains", "mail_invalid_addresses", "mail_wide_networks",
        "mail_setting_problems", "mail_ratelimit_bad_classes",
    }  # fmt: skip


def test_invalid_domains_lists_only_the_bad_ones():
    from ansible_collections.gialai.mail.plugins.plugin_utils.validate import mail_invalid_domains

    assert mail_invalid_domains(["gialai.gov.vn", "gialai..gov.vn", "-bad.vn", "localhost"]) == [
        "gialai..gov.vn", "-bad.vn", "localhost",
    ]  # fmt: skip
    assert mail_invalid_domains(["gialai.gov.vn"]) == []


def test_invalid_addresses_malformed_or_outside_the_domains():
    from ansible_collections.gialai.mail.plugins.plugin_utils.validate import mail_invalid_addresses

    given = ["locnv@gialai.gov.vn", "x@example.org", "Nguyễn A@gialai.gov.vn", "no-at-sign"]
    assert mail_invalid_addresses(given, ["gialai.gov.vn"]) == given[1:]
    assert mail_invalid_addresses(given) == given[2:]


@pytest.mark.parametrize("quota", ["2 GB", "0", "-1G", "lots", 5, "2g"])
def test_malformed_quota_names_the_mailbox(quota):
    message = error_of([{"address": "locnv@gialai.gov.vn", "password": SECRET, "quota": quota}])
    assert message.startswith("mailbox 'locnv@gialai.gov.vn' has quota") and "500M" in message


@pytest.mark.parametrize("quota", ["500M", "2G", "1T", "1024K"])
def test_sizes_are_accepted_as_quota(quota):
    assert mail_validate_mailboxes([{"address": "locnv@gialai.gov.vn", "password": SECRET, "quota": quota}],
                                   DOMAINS)[0]["quota"] == quota


@pytest.mark.parametrize("networks,expected", [
    (["127.0.0.1/32", "[::1]/128", "10.20.30.0/24", "2001:db8::/64", "192.0.2.7"], []),
    (["0.0.0.0/1", "128.0.0.0/1"], ["'0.0.0.0/1' is wider than /24", "'128.0.0.0/1' is wider than /24"]),
    (["0.0.0.0/0"], ["'0.0.0.0/0' is wider than /24"]),
    (["[::]/0"], ["'[::]/0' is wider than /64"]),
    (["10.0.0.0/8"], ["'10.0.0.0/8' is wider than /24 (16777216 addresses"]),
    (["hash:/etc/postfix/network_table"], ["'hash:/etc/postfix/network_table' is not an IP address"]),
    (["10.0.0.0/33"], ["'10.0.0.0/33' is not an IP address"]),
])
def test_relay_networks_are_parsed_and_wide_ones_refused(networks, expected):
    problems = validate.mail_wide_networks(networks)
    assert len(problems) == len(expected)
    for problem, start in zip(problems, expected):
        assert problem.startswith(start), problems


def test_the_widest_relay_network_is_configurable():
    assert validate.mail_wide_networks(["10.0.0.0/16"], 16, 48) == []
    assert validate.mail_wide_networks(["2001:db8::/40"], 16, 48) != []


SYSCTL = ("^[a-z0-9_]+([.][a-zA-Z0-9_*-]+)+$", "^[A-Za-z0-9 ._:/-]+$", "hardening_sysctl", "dotted, a number or a plain string")


def test_setting_problems_accepts_numbers_and_plain_strings():
    from ansible_collections.gialai.mail.plugins.plugin_utils.validate import mail_setting_problems
    good = {"net.ipv4.tcp_syncookies": 1, "kernel.yama.ptrace_scope": "1", "net.ipv4.conf.all.rp_filter": 1.0,
            "fs.suid_dumpable": 0, "net.ipv4.ip_local_port_range": "32768 60999"}
    assert mail_setting_problems(good, *SYSCTL) == []


@pytest.mark.parametrize("name,value,shown", [
    ("net.ipv4.tcp_syncookies", [1, 2], "[1, 2] (list)"),
    ("net.ipv4.tcp_syncookies", True, "true (bool)"),
    ("net.ipv4.tcp_syncookies", "1; reboot", '"1; reboot" (str)'),
    ("net.ipv4.tcp_syncookies", None, "null (NoneType)"),
    ("tcp_syncookies", 1, "1 (int)"),
    ("Net.ipv4.x", 1, "1 (int)"),
])
def test_setting_problems_names_each_bad_entry_its_value_and_type(name, value, shown):
    from ansible_collections.gialai.mail.plugins.plugin_utils.validate import mail_setting_problems
    problems = mail_setting_problems({"kernel.yama.ptrace_scope": 1, name: value}, *SYSCTL)
    assert problems == [f"hardening_sysctl: '{name}' = {shown}: dotted, a number or a plain string"]


# postfix's input check before mail_ratelimit_bad_classes (roles/postfix/tasks/validate.yml): the
# filter must name the same classes, in the same order, as this chain did under Ansible.
_RATELIMIT_CHAIN = """{{ c | dict2items
   | rejectattr('value.messages', 'integer') | map(attribute='key') | list
   + c | dict2items | rejectattr('value.recipients', 'integer') | map(attribute='key') | list
   + c | dict2items | selectattr('value.messages', 'integer')
     | selectattr('value.messages', 'le', 0) | map(attribute='key') | list
   + c | dict2items | selectattr('value.recipients', 'integer')
     | selectattr('value.recipients', 'le', 0) | map(attribute='key') | list }}"""


@pytest.mark.parametrize("classes, bad", [
    ({"default": {"messages": 100, "recipients": 500}, "bulk": {"messages": 10, "recipients": 5000}}, []),
    ({"default": {"messages": 0, "recipients": 500}}, ["default"]),
    ({"default": {"messages": -1, "recipients": 0}, "bulk": {"messages": 1, "recipients": 1}}, ["default", "default"]),
    ({"default": {"messages": "100", "recipients": True}}, ["default", "default"]),
    ({"default": {"messages": 1.5, "recipients": 2}, "bulk": {"messages": 5, "recipients": -2}}, ["default", "bulk"]),
    ({}, []),
])  # fmt: skip
def test_ratelimit_bad_classes_names_what_postfixs_old_check_named(classes, bad):
    from ansible_collections.gialai.mail.plugins.plugin_utils.validate import mail_ratelimit_bad_classes

    assert mail_ratelimit_bad_classes(classes) == bad
    assert list(_old_ratelimit_check(classes)) == bad


@pytest.mark.parametrize("classes, bad", [
    ({"default": {"messages": 5}}, ["default"]),
    ({"default": "100/h", "bulk": None}, ["default", "bulk", "default", "bulk"]),
])  # fmt: skip
def test_ratelimit_bad_classes_names_a_missing_limit_the_old_check_failed_on(classes, bad):
    """A missing limit, or a class that is no mapping: the old chain stopped the run with a templating
    error (no such attribute, or an undefined value added to a list); the filter names the class like
    any other bad limit."""
    from ansible.errors import AnsibleTemplateError

    from ansible_collections.gialai.mail.plugins.plugin_utils.validate import mail_ratelimit_bad_classes

    assert mail_ratelimit_bad_classes(classes) == bad
    with pytest.raises(AnsibleTemplateError):
        _old_ratelimit_check(classes)


def _old_ratelimit_check(classes):
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    return Templar(loader=DataLoader(), variables={"c": classes}).template(trust_as_template(_RATELIMIT_CHAIN))
