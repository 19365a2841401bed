"""The DKIM keys a rebuild takes back from the snapshot (playbooks/rebuild.yml).

- ``mail_dkim_snapshot_files`` (``plugins/filter/mail_dkim_snapshot_files.py``): the key files a
  rebuilt host reads from its snapshot, those not supplied from vault;
- ``mail_dkim_keys_add`` (``plugins/filter/mail_dkim_keys_add.py``): the keys from vault with the
  ones read added, in the shape of the dkim role's ``dkim_private_keys``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def mail_dkim_snapshot_files(domains, algorithms, key_dir, selectors, private_keys) -> dict[str, list]:
    """``{<key_dir>/<domain>/<selector of the algorithm>.private: [domain, algorithm]}`` for each
    domain of ``domains`` and each algorithm of ``algorithms`` (domains first) whose key is not in
    ``private_keys`` (``{domain: {algorithm: key}}``, the keys from vault)."""
    if not isinstance(private_keys, Mapping):
        raise AnsibleFilterError(f"dkim_private_keys must be a mapping, got {type(private_keys).__name__}")
    out = {}
    for domain in domains:
        supplied = private_keys.get(domain)
        for algorithm in algorithms:
            if isinstance(supplied, Mapping) and algorithm in supplied:
                continue
            if algorithm not in selectors:
                raise AnsibleFilterError(f"no DKIM selector for the algorithm {algorithm!r}")
            out[f"{key_dir}/{domain}/{selectors[algorithm]}.private"] = [domain, algorithm]
    return out


def mail_dkim_keys_add(private_keys, files, contents) -> dict:
    """``private_keys`` with each file of ``contents`` (``{path: key text}``) added as the key of
    its ``[domain, algorithm]`` in ``files`` (``mail_dkim_snapshot_files``): a new dict, merged as
    Ansible's ``combine(recursive=true)`` merges it (a domain's other keys kept, the read key in)."""
    if not isinstance(private_keys, Mapping):
        raise AnsibleFilterError(f"dkim_private_keys must be a mapping, got {type(private_keys).__name__}")
    found = dict(private_keys)
    for path, text in contents.items():
        if path not in files:
            raise AnsibleFilterError(f"{path} is not one of the DKIM key files read from the snapshot")
        domain, algorithm = files[path]
        keys = found.get(domain)
        found[domain] = dict(keys) if isinstance(keys, Mapping) else {}
        found[domain][algorithm] = text
    return found
