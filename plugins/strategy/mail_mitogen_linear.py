"""The linear strategy run by Mitogen, with the lab's podman connection redirected too.

Mitogen for Ansible (PyPI ``mitogen``, pinned in requirements.txt) keeps one
Python interpreter per host for the whole run instead of starting one per
task, and caches the modules it sends. Its strategy redirects the stock
transports (``ssh``, ``podman``, ``local`` ...) to its own. The lab and Molecule
reach containers through ``podman_pipelined`` (plugins/connection), which
Mitogen does not know: this strategy adds it to the redirected names, so that
it becomes ``mitogen_podman_pipelined`` (plugins/connection, Mitogen's podman
transport) while the strategy is on, and stays ``podman_pipelined`` when it is
off. One switch, one inventory.

Turn it on with ``ANSIBLE_STRATEGY=mail_mitogen_linear`` (the Makefile does for
the lab, Molecule and the benchmark); ``ANSIBLE_STRATEGY=linear`` is the plain
strategy. ``ansible.cfg`` keeps the plain one for production: Mitogen over
SSH with ``become`` is not exercised by this project's tests.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: mail_mitogen_linear
short_description: Mitogen's linear strategy, with podman_pipelined redirected to Mitogen's podman transport
description:
  - Mitogen for Ansible's mitogen_linear strategy; the connection podman_pipelined is run by Mitogen too.
author: gialai-mail
"""

import ansible_mitogen.affinity
import ansible_mitogen.loaders
import ansible_mitogen.module_finder
import ansible_mitogen.strategy
import mitogen.master

# No CPU pinning. Mitogen's default policy (ansible_mitogen/affinity.py,
# FixedPolicy) pins its connection multiplexer to CPU 0 and, on a machine with
# fewer than 4 CPUs, the strategy process, every worker and every child they start
# (``podman exec``, ``podman run``: so the containers' systemd and each service and
# package installation in them) to CPU 1 only. On the 2-core test machine that
# left CPU 0 nearly idle while four scenarios queued on CPU 1 (measured in
# session 22: CPU 0 95 % idle, run queue 8-10). The plain policy leaves the
# scheduler free, as Ansible's own strategies do. The module attribute is read
# each time (process.py, strategy.py), so replacing it here, before the strategy
# starts its multiplexer, is enough. Tested by tests/unit/test_mitogen_affinity.py.
ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()

# Each source compiled once per run. Before Mitogen sends a module it scans the
# module's imports (ansible_mitogen.module_finder) by compiling the module and every
# module_utils file it reaches; its cache is keyed by module and search path, which
# differs from role to role, so the same files (module_utils/basic.py and what it
# imports) were compiled again for every module of every role: ~10 % of the
# controller's Python time on an idle re-run of site.yml (py-spy). A code object is
# immutable, and the scan only reads its imports, so one compile of a source serves
# every scan.
_COMPILED: dict = {}


def _compile_once(source, filename, mode, *args, **kwargs):
    if args or kwargs or not isinstance(source, (bytes, str)):
        return compile(source, filename, mode, *args, **kwargs)
    key = (source, filename, mode)
    code = _COMPILED.get(key)
    if code is None:
        # dont_inherit: not this module's __future__ flags (the callers' are no-ops on Python 3)
        code = _COMPILED[key] = compile(source, filename, mode, dont_inherit=True)
    return code


# The scanners' modules look `compile` up in their globals before the builtins.
# Tested by tests/unit/test_mitogen_compile_once.py.
ansible_mitogen.module_finder.compile = _compile_once
mitogen.master.compile = _compile_once

# Redirected: the lab's podman_pipelined. local only for a task delegated to the
# controller (the internal CA's key, request and certificate, the host
# certificate's signature: one persistent interpreter instead of a new Python
# and a new import of cryptography each). A play that runs on the controller
# itself keeps Ansible's local connection: Molecule's create playbook, whose
# async container start never completed under mitogen_local.
ansible_mitogen.strategy.REDIRECTED_CONNECTION_PLUGINS = tuple(
    name for name in ansible_mitogen.strategy.REDIRECTED_CONNECTION_PLUGINS if name != "local"
) + ("podman_pipelined",)

# Set in the strategy process just before the worker for a task is forked
# (StrategyBase._queue_task starts it), so the worker reads its own task's value.
_TASK = {"delegated": False}
_mitogen_get_with_context = ansible_mitogen.strategy.wrap_connection_loader__get_with_context


def _get_with_context(name, *args, **kwargs):
    if name == "local" and _TASK["delegated"]:
        return ansible_mitogen.loaders.connection_loader__get_with_context("mitogen_local", *args, **kwargs)
    return _mitogen_get_with_context(name, *args, **kwargs)


# Mitogen's wrapper installer reads this module global when the strategy starts.
ansible_mitogen.strategy.wrap_connection_loader__get_with_context = _get_with_context

_Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):
    """mitogen_linear, with local redirected for delegated tasks only."""

    def _queue_task(self, host, task, task_vars, play_context):
        _TASK["delegated"] = task.delegate_to is not None
        return super()._queue_task(host, task, task_vars, play_context)
