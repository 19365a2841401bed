"""containers.podman.podman with pipelining (lab and Molecule only).

The collection's podman connection runs ``podman exec`` without ``-i`` and so
cannot pass a module on stdin: every task pays for a temporary directory, a
file copy, a chmod and a clean-up, each a separate ``podman exec``. With ``-i``
the module is piped in one exec. The collection also runs ``podman mount`` at
every connection (one per task and host) for its file copies; here the mount
happens only when a file is copied. This is a test-harness speed-up for the lab
and Molecule; production hosts are reached over SSH.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: podman_pipelined
short_description: Run tasks in podman containers, with pipelining
description:
  - The containers.podman.podman connection, with C(podman exec -i) so that
    Ansible can pipeline modules (one exec per task instead of four or more).
author: gialai-mail
extends_documentation_fragment: []
options:
  remote_addr:
    description: The ID or name of the container.
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: ansible_podman_host
  remote_user:
    description: User inside the container.
    vars:
      - name: ansible_user
  podman_executable:
    description: podman binary.
    default: podman
    vars:
      - name: ansible_podman_executable
    env:
      - name: ANSIBLE_PODMAN_EXECUTABLE
  podman_extra_args:
    description: Extra arguments for podman.
    default: ""
    vars:
      - name: ansible_podman_extra_args
    env:
      - name: ANSIBLE_PODMAN_EXTRA_ARGS
  pipelining:
    description: Pipeline modules through stdin.
    default: true
    type: boolean
    vars:
      - name: ansible_pipelining
    env:
      - name: ANSIBLE_PIPELINING
"""

import shlex

from ansible.module_utils.common.text.converters import to_native
from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection


class Connection(PodmanConnection):
    """podman exec -i, so modules can be piped in."""

    transport = "podman_pipelined"
    has_pipelining = True

    def _connect(self):
        # ConnectionBase's bookkeeping only: no `podman mount` until a file is copied.
        super(PodmanConnection, self)._connect()
        self._mounted = False
        self._connected = True

    def _mount(self):
        if not getattr(self, "_mounted", False):
            PodmanConnection._connect(self)  # podman mount; falls back to podman cp when that fails
            self._mounted = True

    def put_file(self, in_path, out_path):
        self._mount()
        return super().put_file(in_path, out_path)

    def fetch_file(self, in_path, out_path):
        self._mount()
        return super().fetch_file(in_path, out_path)

    def exec_command(self, cmd, in_data=None, sudoable=False):
        if not self._connected:
            self._connect()
        # Skip PodmanConnection.exec_command (no -i); keep ConnectionBase's bookkeeping.
        super(PodmanConnection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        exec_args = ["exec", "-i"] if in_data is not None else ["exec"]
        if self.user:
            exec_args.extend(("--user", self.user))
        return self._podman(exec_args, shlex.split(to_native(cmd, errors="surrogate_or_strict")), in_data)
