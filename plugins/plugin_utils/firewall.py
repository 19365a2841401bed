"""The nftables ruleset of one host, split by who may reach a port (roles/firewall).

Pure functions, no Ansible import but AnsibleFilterError; the filter ``mail_firewall_ruleset``
(plugins/filter/mail_firewall_ruleset.py) wraps ``mail_firewall_ruleset``.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.gialai.mail.plugins.plugin_utils.listing import unique


def _flatten(value) -> list:
    out = []
    for item in value:
        out.extend(_flatten(item) if isinstance(item, (list, tuple)) else [item])
    return out


def _ports(rule) -> list[int]:
    try:
        return [int(port) for port in _flatten([rule["port"]])]
    except (KeyError, TypeError, ValueError):
        raise AnsibleFilterError(f"firewall rule {rule!r}: port must be 1-65535 or a list of them") from None


def _is_v6(address: str) -> bool:
    return ":" in address


def mail_firewall_ruleset(rules, groups, host_addresses=None) -> dict:
    """Split a host's rules (``__firewall_rules``) into what the ruleset template writes.

    A rule with ``sources`` or ``source_groups`` admits only those addresses: the sources, then the
    addresses (``host_addresses``, host name to its list) of every host of every source group, in
    that order, each once; with none left it opens nothing. Every other rule opens its ports to
    everyone, by protocol.

    Returns ``{"tcp": [...], "udp": [...], "restricted": [...]}``: the ports open to everyone,
    each once and sorted; and, per restricted rule in the rules' order, ``ports`` (as written),
    ``proto``, ``sources``, their IPv4 (``v4``) and IPv6 (``v6``) parts, and ``comment``
    (``restricted`` when the rule has none).
    """
    host_addresses = host_addresses or {}
    open_ports: dict[str, list[int]] = {"tcp": [], "udp": []}
    restricted = []
    for rule in rules:
        if not isinstance(rule, dict):
            raise AnsibleFilterError(f"firewall rule {rule!r}: not a mapping")
        ports, proto = _ports(rule), rule.get("proto", "tcp")
        if "sources" in rule or "source_groups" in rule:
            sources = list(rule.get("sources", []))
            for group in rule.get("source_groups", []):
                for host in groups.get(group, []):
                    if host not in host_addresses:
                        raise AnsibleFilterError(f"firewall rule {rule!r}: no address for host {host!r} of {group!r}")
                    sources += host_addresses[host]
            sources = unique(sources)
            restricted.append({"ports": ports, "proto": proto, "sources": sources,
                               "v4": [s for s in sources if not _is_v6(s)], "v6": [s for s in sources if _is_v6(s)],
                               "comment": rule.get("comment", "restricted")})
        else:
            open_ports["udp" if proto == "udp" else "tcp"] += ports
    return {"tcp": sorted(set(open_ports["tcp"])), "udp": sorted(set(open_ports["udp"])), "restricted": restricted}
