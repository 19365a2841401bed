"""The mail_firewall_ruleset filter: a host's firewall rules split into ports open to everyone
and ports open to named sources. The logic is plugins/plugin_utils/firewall.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.firewall import mail_firewall_ruleset

DOCUMENTATION = r"""
name: mail_firewall_ruleset
short_description: a host's firewall rules split into open ports and ports open to named sources
description:
  - Takes the rules of one host (the firewall role's C(__firewall_rules), each
    C({port, proto, sources, source_groups, comment})) and splits them as the nftables template writes them.
  - A rule with C(sources) or C(source_groups) is restricted; its sources are C(sources), then the
    addresses of every host of every source group, each address once. A restricted rule with no
    source left opens nothing (the template writes only its comment).
  - Every other rule opens its ports to everyone; those ports come back per protocol, each once, sorted.
  - A rule that is not a mapping, a port that is not a number, or a source-group host without an
    address in O(host_addresses) stops with an error naming the rule.
positional: _input, groups, host_addresses
options:
  _input:
    description: The host's rules, in the order they are written.
    type: list
    elements: dict
    required: true
  groups:
    description: The inventory's groups, group name to host names (Ansible's C(groups)).
    type: dict
    required: true
  host_addresses:
    description: Host name to its list of addresses, for the hosts of the rules' source groups.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Write the ruleset
  ansible.builtin.template:
    src: etc/nftables.conf.j2
    dest: /etc/nftables.conf
    mode: "0600"
  vars:
    __firewall_ruleset: "{{ __firewall_rules | mail_firewall_ruleset(groups, __firewall_host_addresses) }}"
# [{port: [25, 587]}, {port: 22, source_groups: [mail_store], comment: backups}], groups {mail_store: [s1]},
# addresses {s1: ["10.0.0.1", "2001:db8::1"]}
#   -> {tcp: [25, 587], udp: [], restricted: [{ports: [22], proto: tcp, sources: ["10.0.0.1", "2001:db8::1"],
#       v4: ["10.0.0.1"], v6: ["2001:db8::1"], comment: backups}]}
"""

RETURN = r"""
_value:
  description: >-
    C(tcp) and C(udp), the ports open to everyone (each once, sorted); C(restricted), per restricted
    rule in order, its C(ports), C(proto), C(sources), their IPv4 part C(v4) and IPv6 part C(v6), and C(comment).
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_firewall_ruleset": mail_firewall_ruleset}
