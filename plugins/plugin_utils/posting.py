"""Who may post to a list or alias: the posting policies of ``postfix_aliases``.

Three filters, documented in ``plugins/filter/``: ``mail_posting_problems`` (the input check),
``mail_posting_table`` (what the postfix role writes: the port-25 refusals and the
submission policy service's table) and ``mail_posting_restricted`` (the aliases that need that
service). ``POLICIES`` is the one list of posting policies (also
used by ``directory_model.py``).

The address rules live in ``names.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.gialai.mail.plugins.plugin_utils.names import mail_valid_address


POLICIES = ("internal", "members", "senders", "public")
DEFAULT_POLICY = "internal"


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
    """Every problem in the posting policies of ``aliases`` (see plugins/filter/); [] when none."""
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
                bad = [s for s in senders if not mail_valid_address(s)]
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
    """Address -> posting, size, allowed (see plugins/filter/)."""
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


# The policies the submission policy service applies (postfix_ratelimit_enabled must be on).
SERVICE_POLICIES = ("members", "senders")


def mail_posting_restricted(aliases):
    """The ``address`` of each alias of ``aliases`` whose ``posting`` is ``members`` or
    ``senders`` (applied by the submission policy service), in order; anything that is not an
    alias with such a posting is passed over."""
    return [alias.get("address") for alias in aliases
            if isinstance(alias, Mapping) and alias.get("posting") in SERVICE_POLICIES]
