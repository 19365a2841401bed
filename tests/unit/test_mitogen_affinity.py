"""The lab's Mitogen strategy leaves the CPUs to the scheduler.

Mitogen's own strategy pins, on a machine with 2 or 3 CPUs, its workers and every process they
start to CPU 1 only (ansible_mitogen/affinity.py). In the lab and in Molecule those processes are
`podman run` and `podman exec`, so every container, its services and its package installations
queued on one core while the other stayed idle. plugins/strategy/mail_mitogen_linear.py turns the
pinning off. These runs read the CPUs a task's process may use, as the kernel reports them, under
Mitogen's strategy (pinned: proves the check sees pinning) and under ours (all of them).
"""

import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MITOGEN_STRATEGIES = os.path.join(
    os.path.dirname(pytest.importorskip("ansible_mitogen").__file__), "plugins", "strategy")

PLAYBOOK = textwrap.dedent("""\
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: a task's process
          ansible.builtin.command: grep Cpus_allowed_list /proc/self/status
          register: plain
          changed_when: false
        - name: a task delegated to the controller (Mitogen's own local connection under ours)
          ansible.builtin.command: grep Cpus_allowed_list /proc/self/status
          delegate_to: localhost
          register: delegated
          changed_when: false
        - ansible.builtin.debug:
            msg: "CPUS {{ plain.stdout.split()[-1] }} {{ delegated.stdout.split()[-1] }}"
""")


def cpus_of(listing):
    """'0-1,3' -> {0, 1, 3}"""
    cpus = set()
    for part in listing.split(","):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def allowed_under(strategy, tmp_path):
    book = tmp_path / "affinity.yml"
    book.write_text(PLAYBOOK)
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
        ANSIBLE_STRATEGY=strategy,
        ANSIBLE_STRATEGY_PLUGINS=os.pathsep.join([os.path.join(ROOT, "plugins", "strategy"), MITOGEN_STRATEGIES]),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
    )
    run = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
         "-c", "local",
         "-e", "ansible_python_interpreter=" + sys.executable, str(book)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    line = next(l for l in run.stdout.splitlines() if "CPUS " in l)
    plain, delegated = line.split("CPUS ", 1)[1].strip().strip('"').split()
    return cpus_of(plain), cpus_of(delegated)


@pytest.fixture(scope="module")
def machine_cpus():
    cpus = os.sched_getaffinity(0)
    if len(cpus) < 2:
        pytest.skip("one CPU: there is nothing to pin away from")
    return cpus


def test_mitogens_own_strategy_pins_the_processes_of_tasks(machine_cpus, tmp_path):
    plain, delegated = allowed_under("mitogen_linear", tmp_path)
    # Pinned to a strict subset (one CPU for a worker's process; on 4 CPUs or more, Mitogen's
    # children get every CPU but 0 and 1): the check below can see pinning.
    assert plain < machine_cpus or delegated < machine_cpus, (plain, delegated, machine_cpus)


def test_the_lab_strategy_leaves_every_cpu_to_the_processes_of_tasks(machine_cpus, tmp_path):
    plain, delegated = allowed_under("mail_mitogen_linear", tmp_path)
    assert plain == machine_cpus
    assert delegated == machine_cpus
