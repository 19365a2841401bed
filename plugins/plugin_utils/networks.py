"""Networks given as data (mail_agency_networks): checked, and the rest of the Internet around them.

Pure functions; the filters in plugins/filter/ are thin wrappers over them.
"""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError


def mail_network_problems(networks, min_prefix_v4=16, min_prefix_v6=48):
    """Problems with a list of networks in CIDR form (or single addresses), one message per entry.

    An entry must parse as an IPv4 or IPv6 address or network, without host bits set
    (``10.1.2.3/24`` is refused, naming ``10.1.2.0/24``), and be no wider than
    ``min_prefix_v4`` / ``min_prefix_v6``. Returns the messages, empty when all are right.
    """
    if isinstance(networks, str):
        networks = [networks]
    if not isinstance(networks, (list, tuple)):
        return [f"{networks!r} is not a list of networks"]
    problems = []
    for entry in networks:
        text = str(entry).strip()
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError:
            try:
                loose = ipaddress.ip_network(text, strict=False)
            except ValueError:
                problems.append(f"'{text}' is not an IP address or CIDR network")
            else:
                problems.append(f"'{text}' has host bits set (the network is {loose})")
            continue
        widest = int(min_prefix_v4 if network.version == 4 else min_prefix_v6)
        if network.prefixlen < widest:
            problems.append(f"'{text}' is wider than /{widest} ({network.num_addresses} addresses)")
    return problems


def mail_networks_outside(networks):
    """The fewest CIDR networks that hold every IPv4 and IPv6 address outside ``networks``.

    fail2ban's ``ignoreip`` has no negation: a jail that must count only the failures from
    some networks ignores the rest of the Internet, which this returns (IPv4 first, each
    family in address order). A malformed entry raises AnsibleFilterError naming it.
    """
    if isinstance(networks, str):
        networks = [networks]
    parsed = []
    for entry in networks or []:
        try:
            parsed.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError as exc:
            raise AnsibleFilterError(f"mail_networks_outside: '{entry}' is not an IP address or CIDR network") from exc
    result = []
    for universe in (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")):
        remaining = [universe]
        for inside in ipaddress.collapse_addresses(n for n in parsed if n.version == universe.version):
            left = []
            for block in remaining:
                if inside.subnet_of(block):
                    left.extend(block.address_exclude(inside))
                elif not block.subnet_of(inside):
                    left.append(block)
            remaining = left
        result.extend(str(n) for n in ipaddress.collapse_addresses(remaining))
    return result


def mail_networks_not_within(entries, networks):
    """The entries of ``entries`` (addresses or CIDR networks) that no network of ``networks`` holds whole.

    The administrators' bastions (fail2ban never bans them) must lie inside the
    administrators' networks (the only sources the firewall admits to SSH): a bastion
    outside would be locked out by the firewall. Entries are returned as given, in
    their order; a malformed entry of either list raises AnsibleFilterError naming it.
    """

    def parse(items, which):
        if isinstance(items, str):
            items = [items]
        out = []
        for entry in items or []:
            try:
                out.append((entry, ipaddress.ip_network(str(entry).strip(), strict=False)))
            except ValueError as exc:
                raise AnsibleFilterError(
                    f"mail_networks_not_within: {which} entry '{entry}' is not an IP address or CIDR network"
                ) from exc
        return out

    inside = [n for _, n in parse(networks, "network")]
    return [
        entry
        for entry, net in parse(entries, "checked")
        if not any(net.version == n.version and net.subnet_of(n) for n in inside)
    ]
