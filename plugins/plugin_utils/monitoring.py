"""Prometheus scrape targets from the inventory (roles/monitoring, roles/metrics).

Pure functions, no Ansible import but AnsibleFilterError; the filter ``mail_metrics_scrape_configs``
(plugins/filter/mail_metrics_scrape_configs.py) wraps ``mail_metrics_scrape_configs``, and
``mail_login_sources`` (plugins/filter/mail_login_sources.py) wraps ``mail_login_sources``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def _is_ip(value) -> bool:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def _host_addresses(hv: Mapping) -> list[str]:
    """A host's addresses, most specific first, as the firewall role resolves a source host:
    ``firewall_address`` (one or a list) if set, else ``ansible_host`` if it is an IP address and the
    default IPv4 and IPv6 addresses of this run's facts. Empty when none is known."""
    given = hv.get("firewall_address")
    if given:
        return [str(a) for a in (given if isinstance(given, (list, tuple)) else [given])]
    found = [str(hv["ansible_host"])] if _is_ip(hv.get("ansible_host", "")) else []
    facts = hv.get("ansible_facts") or {}
    for key in ("default_ipv4", "default_ipv6"):
        address = (facts.get(key) or {}).get("address")
        if address:
            found.append(str(address))
    return found


def metrics_address(host: str, hv: Mapping) -> str:
    """The address the monitor host scrapes ``host`` at, the one the firewall admits it from too:
    ``metrics_scrape_address``, else the first of the host's addresses (``_host_addresses``). None
    of them: an error naming the host."""
    address = hv.get("metrics_scrape_address") or next(iter(_host_addresses(hv)), None)
    if address:
        return str(address)
    raise AnsibleFilterError(
        f"monitoring: no address to scrape host {host!r}: set metrics_scrape_address for it, give it an IP "
        "ansible_host, or run it in this play (its facts give its default address)")


def _target(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _port(job, value) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError(f"monitoring: exporter {job!r}: port must be 1-65535") from None
    if not 1 <= port <= 65535:
        raise AnsibleFilterError(f"monitoring: exporter {job!r}: port must be 1-65535, not {port}")
    return port


def mail_metrics_scrape_configs(hostvars, hosts, exporters, roles_key: str = "__site_host_roles") -> list[dict]:
    """Prometheus ``scrape_configs`` for the exporters the ``hosts`` run.

    ``exporters`` is a list of ``{job, port, roles}``: the job scrapes ``port`` on every host whose
    roles (``hostvars[host][roles_key]``, the roles site.yml's table runs there) include one of
    ``roles``. With ``port_var`` instead of ``port`` the port is that host variable of each host, and
    a host where it is 0 or unset is left out (Dovecot's metrics: 2.4 hosts only). One static config per host, labelled ``host: <inventory name>``, hosts in the given
    order, each once. A job with no host is left out. A host without its roles (not in this run,
    e.g. under --limit) or without an address stops with an error naming it.
    """
    if not isinstance(exporters, (list, tuple)):
        raise AnsibleFilterError("monitoring: the exporters must be a list of {job, port, roles}")
    seen, ordered = set(), []
    for host in hosts or []:
        if host not in seen:
            seen.add(host)
            ordered.append(host)
    configs = []
    for exporter in exporters:
        if not isinstance(exporter, Mapping) or not exporter.get("job") or not exporter.get("roles"):
            raise AnsibleFilterError(f"monitoring: exporter {exporter!r} needs a job, a port and roles")
        port_var = exporter.get("port_var")
        port = None if port_var else _port(exporter["job"], exporter.get("port"))
        static = []
        for host in ordered:
            hv = hostvars.get(host)
            if hv is None or roles_key not in hv:
                raise AnsibleFilterError(
                    f"monitoring: host {host!r} is not in this run (its roles are unknown): the monitor "
                    "host's scrape targets need every mail host in the run (no --limit that leaves it out)")
            if not set(hv[roles_key] or []) & set(exporter["roles"]):
                continue
            host_port = port
            if port_var:  # the host's own port (0: it serves none)
                value = hv.get(port_var, 0)
                if not value or str(value).strip() == "0":
                    continue
                host_port = _port(exporter["job"], value)
            static.append({"targets": [_target(metrics_address(host, hv), host_port)], "labels": {"host": host}})
        if static:
            configs.append({"job_name": str(exporter["job"]), "static_configs": static})
    return configs


def mail_login_sources(hostvars, hosts, what: str = "the login") -> list[str]:
    """Every address the ``hosts`` (the mail_monitor hosts) may connect from, for a login accepted
    from them only (Dovecot's allow_nets, fail2ban's ignoreip): each host's addresses
    (``_host_addresses``). Each address once, in host order. A host with none, or no host at all, stops
    with an error naming ``what`` (the login would be refused from everywhere, or from that host)."""
    if not hosts:
        raise AnsibleFilterError(f"{what}: no host to accept the login from (its source groups have no host)")
    sources: list[str] = []
    for host in hosts or []:
        found = _host_addresses(hostvars.get(host) or {})
        if not found:
            raise AnsibleFilterError(
                f"{what}: no address for host {host!r}, from which the login is accepted: "
                "set firewall_address for it, give it an IP ansible_host, or let the run reach it (its facts "
                "give its default addresses)")
        for address in found:
            if address not in sources:
                sources.append(address)
    return sources
