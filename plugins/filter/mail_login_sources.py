"""The mail_login_sources filter: the addresses a login is accepted from when only the monitor
hosts may use it. The logic is plugins/plugin_utils/monitoring.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.monitoring import mail_login_sources

DOCUMENTATION = r"""
name: mail_login_sources
short_description: the addresses of some hosts, for a login accepted from them only
description:
  - Reads O(_input), Ansible's C(hostvars), for each of O(hosts) (the mail_monitor hosts).
  - >-
    A host's addresses are C(firewall_address) (one or a list) if set, else an IP C(ansible_host) and the
    default IPv4 and IPv6 addresses from this run's facts.
  - Each address once, in host order. A host with none, or no host at all, stops with an error naming
    O(what) and the host.
  - >-
    The dovecot role writes the result as Dovecot's C(allow_nets) of a login of C(dovecot_login_source_groups)
    (site.yml binds the monitor's alert account, from the C(mail_monitor) hosts).
positional: _input, hosts
options:
  _input:
    description: Ansible's C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts the login is accepted from (inventory names).
    type: list
    elements: str
    required: true
  what:
    description: What the error names (the login).
    type: str
    default: the login
"""

EXAMPLES = r"""
- name: The alert account's login, from the monitor hosts only
  ansible.builtin.set_fact:
    __nets: "{{ {'canhbao@gialai.gov.vn': hostvars | mail_login_sources(groups['mail_monitor'], what='canhbao@gialai.gov.vn')} }}"
# monitor1 with facts default_ipv4 10.0.0.9 and default_ipv6 2001:db8::9
#   -> {canhbao@gialai.gov.vn: ["10.0.0.9", "2001:db8::9"]}
"""

RETURN = r"""
_value:
  description: The addresses, each once, in host order.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_login_sources": mail_login_sources}
