import datetime

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gialai.mail.plugins.plugin_utils.lifecycle import (
    add_months,
    mail_lifecycle,
    mail_lifecycle_changes,
)
from filter_table import filters_from

D = datetime.date


def one(account, today="2025-03-01", **kwargs):
    (entry,) = mail_lifecycle([account], today, **kwargs)
    return entry


def rights(entry):
    return entry["login"], entry["receive"], entry["send"]


# --------------------------------------------------------------------------- month arithmetic


@pytest.mark.parametrize(
    "start, months, expected",
    [
        (D(2024, 8, 31), 6, D(2025, 2, 28)),
        (D(2023, 8, 31), 6, D(2024, 2, 29)),  # leap year
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2024, 3, 31), 6, D(2024, 9, 30)),
        (D(2024, 7, 15), 6, D(2025, 1, 15)),  # over the year end
        (D(2024, 12, 31), 12, D(2025, 12, 31)),
        (D(2024, 5, 10), 0, D(2024, 5, 10)),
        (D(2024, 8, 31), 30, D(2027, 2, 28)),
    ],
)
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


# --------------------------------------------------------------------------- states


def test_active_default():
    entry = one({"address": "LocNV@GiaLai.gov.vn"})
    assert entry == {
        "address": "locnv@gialai.gov.vn",
        "state": "active",
        "effective_state": "active",
        "login": True,
        "receive": True,
        "send": True,
        "action": "keep",
        "due": None,
    }


def test_suspended_keeps_receiving():
    entry = one({"address": "a@gialai.gov.vn", "state": "Suspended"})
    assert entry["state"] == "suspended" and entry["effective_state"] == "suspended"
    assert rights(entry) == (False, True, False)
    assert entry["action"] == "keep"


def test_revoked():
    entry = one({"address": "a@gialai.gov.vn", "state": "revoked"})
    assert rights(entry) == (False, False, False)
    assert entry["action"] == "disable" and entry["effective_state"] == "revoked"


def test_departed_within_retention():
    entry = one(
        {
            "address": "a@gialai.gov.vn",
            "state": "departed",
            "departed_on": "2024-08-31",
        },
        today="2025-02-27",
    )
    assert rights(entry) == (False, True, False)
    assert entry["action"] == "retain" and entry["effective_state"] == "retained"
    assert entry["due"] == "2025-02-28"


def test_departed_on_the_day_of_departure_is_retained():
    entry = one(
        {"address": "a@gialai.gov.vn", "state": "departed", "departed_on": "2025-03-01"}
    )
    assert entry["action"] == "retain" and entry["due"] == "2025-09-01"


def test_departed_retention_ends_on_clamped_day():
    account = {
        "address": "a@gialai.gov.vn",
        "state": "departed",
        "departed_on": "2024-08-31",
    }
    entry = one(account, today="2025-02-28")
    assert (
        entry["action"] == "archive_then_remove"
        and entry["effective_state"] == "expired"
    )
    assert rights(entry) == (False, False, False)
    assert entry["due"] == "2025-02-28"


def test_departed_leap_year_clamp():
    account = {
        "address": "a@gialai.gov.vn",
        "state": "departed",
        "departed_on": "2023-08-31",
    }
    assert one(account, today="2024-02-28")["action"] == "retain"
    assert one(account, today="2024-02-28")["due"] == "2024-02-29"
    assert one(account, today="2024-02-29")["action"] == "archive_then_remove"


@pytest.mark.parametrize("role", ["leader", "director", "Deputy_Director", "head "])
def test_leader_gets_twelve_months(role):
    account = {
        "address": "a@gialai.gov.vn",
        "state": "departed",
        "departed_on": "2024-08-31",
        "role": role,
    }
    entry = one(account, today="2025-03-01")
    assert entry["action"] == "retain" and entry["due"] == "2025-08-31"
    assert one(account, today="2025-08-31")["action"] == "archive_then_remove"


def test_staff_gets_six_months():
    account = {
        "address": "a@gialai.gov.vn",
        "state": "departed",
        "departed_on": "2024-08-31",
        "role": "staff",
    }
    assert one(account, today="2025-03-01")["action"] == "archive_then_remove"


def test_custom_retention_and_leader_roles():
    account = {
        "address": "a@gialai.gov.vn",
        "state": "departed",
        "departed_on": "2025-01-15",
        "role": "chief",
    }
    assert one(account, retention_months=1)["action"] == "archive_then_remove"
    entry = one(
        account, retention_months=1, leader_retention_months=3, leader_roles=["Chief"]
    )
    assert entry["action"] == "retain" and entry["due"] == "2025-04-15"
    assert (
        one(
            account, retention_months=1, leader_retention_months=3, leader_roles="chief"
        )["due"]
        == "2025-04-15"
    )
    # the default leader roles no longer apply once leader_roles is given
    director = dict(account, role="director")
    assert (
        one(director, retention_months=1, leader_roles=["chief"])["action"]
        == "archive_then_remove"
    )


def test_zero_retention_archives_at_once():
    account = {
        "address": "a@gialai.gov.vn",
        "state": "departed",
        "departed_on": "2025-03-01",
    }
    assert one(account, retention_months=0)["action"] == "archive_then_remove"


def test_future_departure_is_still_active():
    entry = one(
        {"address": "a@gialai.gov.vn", "state": "departed", "departed_on": "2025-03-02"}
    )
    assert entry["state"] == "departed" and entry["effective_state"] == "active"
    assert rights(entry) == (True, True, True)
    assert entry["action"] == "keep" and entry["due"] == "2025-03-02"


def test_dates_may_be_date_objects():
    account = {
        "address": "a@gialai.gov.vn",
        "state": "departed",
        "departed_on": D(2024, 8, 31),
    }
    assert one(account, today=D(2025, 2, 27))["due"] == "2025-02-28"
    assert (
        one(account, today=datetime.datetime(2025, 2, 28, 23, 59))["action"]
        == "archive_then_remove"
    )


def test_output_order_and_changes():
    accounts = [
        {"address": "a@gialai.gov.vn"},
        {"address": "b@gialai.gov.vn", "state": "suspended"},
        {
            "address": "c@gialai.gov.vn",
            "state": "departed",
            "departed_on": "2025-01-01",
        },
        {"address": "d@gialai.gov.vn", "state": "revoked"},
        {
            "address": "e@gialai.gov.vn",
            "state": "departed",
            "departed_on": "2024-01-01",
        },
        {
            "address": "f@gialai.gov.vn",
            "state": "departed",
            "departed_on": "2026-01-01",
        },
    ]
    full = mail_lifecycle(accounts, "2025-03-01")
    assert [e["address"][0] for e in full] == list("abcdef")
    changes = mail_lifecycle_changes(accounts, "2025-03-01")
    assert [(e["address"][0], e["action"]) for e in changes] == [
        ("c", "retain"),
        ("d", "disable"),
        ("e", "archive_then_remove"),
    ]


# --------------------------------------------------------------------------- errors


def test_departed_without_date_names_account():
    with pytest.raises(
        AnsibleFilterError, match="'x@gialai.gov.vn' is departed but has no departed_on"
    ):
        mail_lifecycle(
            [{"address": "x@gialai.gov.vn", "state": "departed"}], "2025-03-01"
        )


@pytest.mark.parametrize("bad", ["31/08/2024", "2024-02-30", "yesterday", 20240831])
def test_departed_malformed_date_names_account(bad):
    with pytest.raises(
        AnsibleFilterError, match="'x@gialai.gov.vn' has a malformed departed_on"
    ):
        mail_lifecycle(
            [{"address": "x@gialai.gov.vn", "state": "departed", "departed_on": bad}],
            "2025-03-01",
        )


def test_unknown_state_names_account():
    with pytest.raises(AnsibleFilterError) as exc:
        mail_lifecycle(
            [
                {"address": "a@gialai.gov.vn"},
                {"address": "x@gialai.gov.vn", "state": "on_leave"},
            ],
            "2025-03-01",
        )
    assert "'x@gialai.gov.vn'" in str(exc.value) and "on_leave" in str(exc.value)


@pytest.mark.parametrize("today", ["", "01/03/2025", None, "2025-13-01"])
def test_bad_today(today):
    with pytest.raises(AnsibleFilterError, match="today"):
        mail_lifecycle([], today)


def test_duplicate_address():
    with pytest.raises(
        AnsibleFilterError, match="'x@gialai.gov.vn' is listed more than once"
    ):
        mail_lifecycle(
            [{"address": "x@gialai.gov.vn"}, {"address": "X@gialai.gov.vn "}],
            "2025-03-01",
        )


@pytest.mark.parametrize("account", [{}, {"address": ""}, "x@gialai.gov.vn"])
def test_account_without_address(account):
    with pytest.raises(AnsibleFilterError, match="#2"):
        mail_lifecycle([{"address": "a@gialai.gov.vn"}, account], "2025-03-01")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"retention_months": -1},
        {"leader_retention_months": "soon"},
        {"retention_months": True},
    ],
)
def test_bad_retention(kwargs):
    with pytest.raises(AnsibleFilterError, match="months"):
        mail_lifecycle([], "2025-03-01", **kwargs)


def test_filter_table():
    assert set(filters_from("lifecycle")) == {"mail_lifecycle", "mail_lifecycle_changes", "mail_apply_lifecycle"}


def test_apply_lifecycle_keeps_every_field_and_merges_rights():
    from ansible_collections.gialai.mail.plugins.plugin_utils.lifecycle import mail_apply_lifecycle

    accounts = [
        {"address": "LocNV@gialai.gov.vn", "password": "x", "name": "Nguyễn Văn Lộc"},
        {"address": "tamlt@gialai.gov.vn", "password": "y", "state": "suspended"},
        {"address": "hungpv@gialai.gov.vn", "password": "z", "state": "departed", "departed_on": "2026-10-01"},
        {"address": "namtq@gialai.gov.vn", "password": "w", "state": "revoked"},
    ]
    merged = mail_apply_lifecycle(accounts, "2026-11-28")
    assert [m["address"] for m in merged] == [a["address"] for a in accounts]  # as written
    assert merged[0]["password"] == "x" and merged[0]["name"] == "Nguyễn Văn Lộc"
    assert [(m["login"], m["receive"], m["send"]) for m in merged] == [
        (True, True, True), (False, True, False), (False, True, False), (False, False, False),
    ]  # fmt: skip
    assert merged[2]["effective_state"] == "retained" and merged[2]["due"] == "2027-04-01"
    assert "login" not in accounts[0]  # the input is not modified


def test_apply_lifecycle_takes_missing_passwords_from_the_mapping():
    from ansible_collections.gialai.mail.plugins.plugin_utils.lifecycle import mail_apply_lifecycle

    accounts = [
        {"address": "LocNV@gialai.gov.vn"},
        {"address": "hoatt@gialai.gov.vn", "password": "Explicit#2026"},
        {"address": "daott@gialai.gov.vn", "password_hash": "{SHA512-CRYPT}$6$x$y"},
        {"address": "nobody@gialai.gov.vn"},
    ]
    vault = {"locnv@gialai.gov.vn": "FromVault#2026", "hoatt@gialai.gov.vn": "Other#2026",
             "daott@gialai.gov.vn": "Ignored#2026"}
    out = mail_apply_lifecycle(accounts, "2026-11-28", passwords=vault)
    assert out[0]["password"] == "FromVault#2026"          # looked up case-insensitively
    assert out[1]["password"] == "Explicit#2026"           # an explicit password wins
    assert "password" not in out[2]                        # a ready hash is left alone
    assert "password" not in out[3]                        # missing stays missing: validation names it
    assert "password" not in accounts[0]                   # the input is not modified


def test_apply_lifecycle_refuses_a_password_list():
    from ansible_collections.gialai.mail.plugins.plugin_utils.lifecycle import mail_apply_lifecycle

    with pytest.raises(AnsibleFilterError, match="passwords must be a mapping"):
        mail_apply_lifecycle([{"address": "a@gialai.gov.vn"}], "2026-11-28", passwords=["x"])
