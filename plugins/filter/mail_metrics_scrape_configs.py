"""The mail_metrics_scrape_configs filter: Prometheus scrape configs from the inventory. The logic
is plugins/plugin_utils/monitoring.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.monitoring import mail_metrics_scrape_configs

DOCUMENTATION = r"""
name: mail_metrics_scrape_configs
short_description: Prometheus scrape configs for the exporters the mail hosts run
description:
  - Reads O(_input), Ansible's C(hostvars), for each of O(hosts) the roles site.yml's table runs
    there (O(roles_key), C(__site_host_roles) by default) and its address.
  - Each of O(exporters) (C({job, port, roles})) becomes one scrape config, one static config per
    host whose roles include one of the exporter's C(roles), labelled C(host) with the inventory name.
  - "The address is the one the firewall admits the monitor host's scrapes to: C(metrics_scrape_address),
    else C(firewall_address), else an IP C(ansible_host), else the default address from the facts."
  - A host not in the run or without an address stops with an error naming the host.
positional: _input, hosts, exporters
options:
  _input:
    description: Ansible's C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts that may run exporters (inventory names); duplicates count once.
    type: list
    elements: str
    required: true
  exporters:
    description: >-
      The exporters, C([{job, port, roles}]); with C(port_var) instead of C(port), each host's port is that host
      variable, and a host where it is 0 or unset is left out.
    type: list
    elements: dict
    required: true
  roles_key:
    description: The host variable that lists the roles a host runs.
    type: str
    default: __site_host_roles
"""

EXAMPLES = r"""
- name: The monitor host's scrape targets
  ansible.builtin.set_fact:
    monitoring_scrape_configs: >-
      {{ hostvars | mail_metrics_scrape_configs(groups['mail_mx'] + groups['mail_store'],
         [{'job': 'node', 'port': 9100, 'roles': ['metrics']},
          {'job': 'postfix', 'port': 9154, 'roles': ['postfix']}]) }}
# -> [{job_name: node, static_configs: [{targets: ['10.0.0.5:9100'], labels: {host: mail1}}]},
#     {job_name: postfix, static_configs: [{targets: ['10.0.0.5:9154'], labels: {host: mail1}}]}]
"""

RETURN = r"""
_value:
  description: Prometheus C(scrape_configs) entries, C({job_name, static_configs}), jobs without a host left out.
  type: list
  elements: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_metrics_scrape_configs": mail_metrics_scrape_configs}
