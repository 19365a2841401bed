"""What playbooks/audit.yml hands the read-only checks of tests/audit.

- ``mail_audit_hosts`` (``plugins/filter/mail_audit_hosts.py``): the hosts the audit reaches
  (those the first play reached: its CA certificate read, or skipped where no TLS service runs);
- ``mail_lab_switches`` (``plugins/filter/mail_lab_switches.py``): the variables the conformance
  catalogue names as lab switches;
- ``mail_audit_hostvars`` (``plugins/filter/mail_audit_hostvars.py``): each host's entry of
  ``MAIL_AUDIT_HOSTVARS``, what tests/audit knows of it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.gialai.mail.plugins.plugin_utils.listing import sort_ignoring_case, unique

# A connection that reaches the host at its inventory address (else the address is the host's own).
SSH_CONNECTIONS = ("ssh", "paramiko", "smart")


def mail_audit_hosts(host_names, hostvars) -> list:
    """The hosts of ``host_names`` whose variables (``hostvars``) hold ``audit_ca``, in order."""
    return [name for name in host_names if "audit_ca" in hostvars[name]]


def mail_lab_switches(catalogues) -> list:
    """The names every control of ``catalogues`` (each a parsed ``tests/conformance/controls/*.yml``:
    a list of controls) lists under ``lab_switches``, each once, sorted."""
    names = []
    for catalogue in catalogues:
        for control in catalogue or []:
            if isinstance(control, Mapping):
                names.extend(control.get("lab_switches", []))
    return sort_ignoring_case(unique(names))  # Ansible's unique, then Jinja's sort


def _var(hv, name, default):
    return hv[name] if name in hv else default


def mail_audit_hostvars(host_names, hostvars, switches, inventory, ca_dir) -> dict[str, dict]:
    """``{host: what tests/audit knows of it}`` for each of ``host_names``, from its ``hostvars``:

    - ``connection`` (default ssh), ``container`` (``ansible_host``, else the name), ``inventory``;
    - ``address``: ``mail_audit_address``, else over ssh its ``ansible_host`` (else the name), else
      the address of its default IPv4 route (its facts);
    - ``hostname``: ``mail_hostname``, else ``tls_hostname``, else the name;
    - ``domains``: ``mail_domains``, else ``postfix_domains``, else none;
    - ``cafile``: ``<ca_dir>/<host>.pem``; ``tls_key_file``; ``groups`` (its ``group_names``);
    - ``switches``: the value of each of ``switches`` the host's variables set.
    """
    out = {}
    for name in host_names:
        hv = hostvars[name]
        conn = _var(hv, "ansible_connection", "ssh")
        if "mail_audit_address" in hv:
            address = hv["mail_audit_address"]
        elif conn in SSH_CONNECTIONS:
            address = _var(hv, "ansible_host", name)
        else:
            address = ((_var(hv, "ansible_facts", {}) or {}).get("default_ipv4") or {}).get("address")
            if address is None:
                raise AnsibleFilterError(
                    f"audit: no address for {name}: set mail_audit_address (its facts have no default IPv4 route)")
        if "tls_key_file" not in hv:
            raise AnsibleFilterError(f"audit: {name} has no tls_key_file")
        out[name] = {
            "connection": conn,
            "container": _var(hv, "ansible_host", name),
            "inventory": inventory,
            "address": address,
            "hostname": _var(hv, "mail_hostname", _var(hv, "tls_hostname", name)),
            "domains": _var(hv, "mail_domains", _var(hv, "postfix_domains", [])),
            "cafile": f"{ca_dir}/{name}.pem",
            "tls_key_file": hv["tls_key_file"],
            "groups": _var(hv, "group_names", []),
            "switches": {switch: hv[switch] for switch in switches if switch in hv},
        }
    return out
