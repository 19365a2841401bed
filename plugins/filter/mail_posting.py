"""Who may post to a list or alias: the posting policies of ``postfix_aliases``.

Two filters, documented below: ``mail_posting_problems`` (the input check) and
``mail_posting_table`` (what the postfix role writes: the port-25 refusals and
the submission policy service's table).

The address rules live in ``mail_names.py``; Ansible loads every filter file
as an isolated module, so the sibling is loaded by its path (as in
``mail_validate.py``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: mail_posting_table
short_description: the posting policy of every list and alias, expanded
description:
  - "Each alias of O(_input) (the shape of C(postfix_aliases): C(address), C(to), optional C(posting)
    and C(posting_senders)) has a posting policy: C(internal) (the default: only users who logged in
    on submission, never a client on port 25), C(members) (only the list's members: its C(to)
    addresses, nested aliases expanded), C(senders) (only the logins or addresses in
    C(posting_senders)) or C(public) (anyone, port 25 included; opt-in)."
  - "Returns a mapping address -> C(posting) (the alias's own policy), C(size) (the number of
    distinct final addresses it expands to, nested aliases included; the rate limiter counts a post
    as that many recipients) and C(allowed) (the sorted addresses that may post on submission, or
    null when any logged-in user may: the intersection over the alias itself and every C(members)
    or C(senders) alias it reaches, so nesting never widens a list)."
  - Raises an error listing every problem C(mail_posting_problems) finds.
  - Companion filter in this file is C(mail_posting_problems), which returns the problems as a list
    of messages (empty when the aliases are right) for an assert; see the module docstring.
positional: _input
options:
  _input:
    description: The aliases (C(postfix_aliases)).
    type: list
    elements: dict
    required: true
notes:
  - "Problems: a C(posting) outside the four policies; C(senders) without C(posting_senders) or
    with a malformed entry; C(posting_senders) on another policy; a C(public) alias that reaches a
    non-public one (port 25 checks only the address the client names, so that would open the inner
    list to the Internet)."
"""

EXAMPLES = r"""
- name: Refuse wrong posting policies before any host is changed
  ansible.builtin.assert:
    that: postfix_aliases | mail_posting_problems == []
    fail_msg: "{{ postfix_aliases | mail_posting_problems | join('; ') }}"

# postfix_aliases:
#   - {address: lanhdao@gialai.gov.vn, to: [locnv@gialai.gov.vn, hoatt@gialai.gov.vn], posting: members}
# {{ postfix_aliases | mail_posting_table }} ->
#   {"lanhdao@gialai.gov.vn": {"posting": "members", "size": 2,
#                              "allowed": ["hoatt@gialai.gov.vn", "locnv@gialai.gov.vn"]}}
"""

RETURN = r"""
_value:
  description: Address -> C(posting), C(size), C(allowed) (see the description).
  type: dict
"""

POLICIES = ("internal", "members", "senders", "public")
DEFAULT_POLICY = "internal"


def _load_sibling(stem):
    """Load ``<this folder>/<stem>.py`` once, under a private module name."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{stem}.py")
    digest = hashlib.sha256(path.encode("utf-8")).hexdigest()[:12]
    module_name = f"_mail_filter_{stem}_{digest}"
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception:
            del sys.modules[module_name]
            raise
    return module


_names = _load_sibling("mail_names")


def _norm(address):
    return str(address).strip().lower()


def _aliases_by_address(aliases):
    if not isinstance(aliases, (list, tuple)):
        raise AnsibleFilterError("mail_posting: expected the list of aliases (postfix_aliases)")
    table = {}
    for alias in aliases:
        if isinstance(alias, dict) and alias.get("address"):
            table[_norm(alias["address"])] = alias
    return table


def _expand(address, table, seen):
    """(final addresses, restricted aliases reached) of ``address``; cycles stop at a repeat."""
    if address in seen:
        return set(), []
    seen = seen | {address}
    alias = table.get(address)
    if alias is None:
        return {address}, []
    finals, reached = set(), [address]
    for target in alias.get("to") or []:
        sub_finals, sub_reached = _expand(_norm(target), table, seen)
        finals |= sub_finals
        reached += sub_reached
    return finals, reached


def mail_posting_problems(aliases):
    """Every problem in the posting policies of ``aliases`` (see DOCUMENTATION); [] when none."""
    table = _aliases_by_address(aliases)
    problems = []
    for address, alias in sorted(table.items()):
        posting = alias.get("posting", DEFAULT_POLICY)
        senders = alias.get("posting_senders")
        if posting not in POLICIES:
            problems.append(f"alias '{address}': posting '{posting}' is none of {', '.join(POLICIES)}")
            continue
        if posting == "senders":
            if not isinstance(senders, (list, tuple)) or not senders:
                problems.append(f"alias '{address}': posting 'senders' needs posting_senders (a list of logins)")
            else:
                bad = [s for s in senders if not _names.mail_valid_address(s)]
                if bad:
                    problems.append(f"alias '{address}': posting_senders has malformed addresses {bad}")
        elif senders is not None:
            problems.append(f"alias '{address}': posting_senders is only for posting 'senders' (it is '{posting}')")
        if posting == "public":
            _finals, reached = _expand(address, table, frozenset())
            closed = [r for r in reached[1:] if table[r].get("posting", DEFAULT_POLICY) != "public"]
            if closed:
                problems.append(f"public alias '{address}' reaches the non-public {sorted(set(closed))}: "
                                "port 25 would open them to the Internet (make them public or drop the target)")
    return problems


def mail_posting_table(aliases):
    """Address -> posting, size, allowed (see DOCUMENTATION)."""
    problems = mail_posting_problems(aliases)
    if problems:
        raise AnsibleFilterError("wrong posting policies: " + "; ".join(problems))
    table = _aliases_by_address(aliases)
    result = {}
    for address, alias in sorted(table.items()):
        finals, reached = _expand(address, table, frozenset())
        allowed = None
        for name in reached:
            inner = table[name]
            posting = inner.get("posting", DEFAULT_POLICY)
            if posting == "members":
                these = _expand(name, table, frozenset())[0]
            elif posting == "senders":
                these = {_norm(s) for s in inner["posting_senders"]}
            else:
                continue
            allowed = these if allowed is None else allowed & these
        result[address] = {"posting": alias.get("posting", DEFAULT_POLICY), "size": len(finals),
                           "allowed": None if allowed is None else sorted(allowed)}
    return result


class FilterModule:
    """Posting policy filters."""

    def filters(self):
        return {
            "mail_posting_problems": mail_posting_problems,
            "mail_posting_table": mail_posting_table,
        }
