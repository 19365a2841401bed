"""Which of a role's release files (vars/Debian-12.yml, vars/Debian-13.yml) a host loads.

Pure: no Ansible import but AnsibleError; the lookup ``gialai.mail.release_vars``
(plugins/lookup/release_vars.py) wraps ``release_vars_file``.
"""

from __future__ import annotations

import os
import re

from ansible.errors import AnsibleError

RELEASE_FILE = re.compile(r"^[A-Za-z]+-[0-9]+[.]yml$")


def release_vars_file(role_path: str, distribution: str, major_version: str) -> str:
    """The path of ``<role_path>/vars/<distribution>-<major_version>.yml`` (Debian-13.yml on
    Debian 13); an error naming the role, the release and the releases the role has when the
    file is missing or the facts are not there (gathered facts are needed)."""
    role = os.path.basename(os.path.normpath(role_path or ""))
    if not role_path or not distribution or not major_version:
        raise AnsibleError(f"release variables of role {role or '?'}: needs role_path and the host's facts "
                           f"distribution and distribution_major_version (gather facts first)")
    vars_dir = os.path.join(role_path, "vars")
    path = os.path.join(vars_dir, f"{distribution}-{major_version}.yml")
    if not os.path.isfile(path):
        have = sorted(f[:-4] for f in os.listdir(vars_dir) if RELEASE_FILE.match(f)) if os.path.isdir(vars_dir) else []
        raise AnsibleError(f"role {role} does not support {distribution} {major_version} "
                           f"(no vars/{distribution}-{major_version}.yml; it has: {', '.join(have) or 'none'})")
    return path
