"""The mail_audit_hostvars filter: what the conformance audit's checks know of each host. The logic is plugins/plugin_utils/audit.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.audit import mail_audit_hostvars

DOCUMENTATION = r"""
name: mail_audit_hostvars
short_description: what the conformance audit's checks know of each host
description:
  - For each host of O(_input), from its variables in O(hostvars), the entry C(tests/audit) reads from
    C(MAIL_AUDIT_HOSTVARS).
  - C(connection) (default ssh); C(container), its C(ansible_host) or its name; C(inventory), O(inventory).
  - C(address), its C(mail_audit_address), else over ssh its C(ansible_host) or name, else the address
    of its default IPv4 route in its facts (none stops with an error naming the host).
  - C(hostname), C(mail_hostname), else C(tls_hostname), else its name; C(domains), C(mail_domains),
    else C(postfix_domains), else none.
  - C(cafile), C(<ca_dir>/<host>.pem); C(tls_key_file) (required); C(groups), its C(group_names).
  - C(switches), the value of each of O(switches) that its variables set.
positional: _input, hostvars, switches, inventory, ca_dir
extends_documentation_fragment:
  - gialai.mail.hostvars
options:
  _input:
    description:
      - The audited hosts (C(mail_audit_hosts)), in the order their entries are written.
    type: list
    elements: str
    required: true
  switches:
    description: The lab switches (C(mail_lab_switches)).
    type: list
    elements: str
    required: true
  inventory:
    description: The inventory the run read (C(ansible_inventory_sources[0])).
    type: str
    required: true
  ca_dir:
    description: The directory of the hosts' CA files.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Run the audit tests
  ansible.builtin.command:
    cmd: .venv/bin/pytest tests/audit
  environment:
    MAIL_AUDIT_HOSTVARS: >-
      {{ audit_hosts | mail_audit_hostvars(hostvars, audit_lab_switches, ansible_inventory_sources[0], audit_tmp.path)
         | to_json }}
# [mx1] -> {mx1: {connection: ssh, container: 10.0.0.5, inventory: inventories/production/hosts.yml,
#   address: 10.0.0.5, hostname: mail.gialai.gov.vn, domains: [gialai.gov.vn], cafile: /tmp/x/mx1.pem,
#   tls_key_file: /etc/ssl/gialai/mail.key, groups: [mail_mx], switches: {}}}
"""

RETURN = r"""
_value:
  description: Host name to its entry.
  type: dict
  contains:
    connection: {description: The connection plugin (default ssh)., type: str}
    container: {description: Its ansible_host, else its name., type: str}
    inventory: {description: O(inventory)., type: str}
    address: {description: The address the checks connect to., type: str}
    hostname: {description: The mail host name its certificate names., type: str}
    domains: {description: The mail domains it serves., type: list, elements: str}
    cafile: {description: The file of its CA certificate., type: str}
    tls_key_file: {description: Its TLS key's path on the host., type: str}
    groups: {description: Its inventory groups., type: list, elements: str}
    switches: {description: Lab switch to the value the host sets., type: dict}
"""


class FilterModule:
    def filters(self):
        return {"mail_audit_hostvars": mail_audit_hostvars}
