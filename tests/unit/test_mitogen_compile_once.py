"""The lab's Mitogen strategy compiles each module source once per run.

Before Mitogen sends a module to a host it scans the module's imports
(ansible_mitogen.module_finder.scan), compiling the module and every module_utils
file it reaches. Its cache is keyed by module and search path, and the search path
differs from role to role, so module_utils/basic.py and the files it imports were
compiled again for every module of every role (~10 % of the controller's CPU on an
idle re-run of site.yml, py-spy). plugins/strategy/mail_mitogen_linear.py gives the
scanners one compile per source. These tests load the plugin as Ansible does (in a
fresh interpreter) and scan a real module twice, under two search paths.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
pytest.importorskip("ansible_mitogen")

SCRIPT = textwrap.dedent("""\
    import importlib.util, json, sys
    import ansible.modules.copy as copy_module
    import ansible.module_utils
    import ansible_mitogen.module_finder as finder
    import mitogen.master

    def scan(search_path):
        return sorted(finder.scan(module_name="ansible_module_copy", module_path=copy_module.__file__,
                                  search_path=tuple(search_path) + tuple(ansible.module_utils.__path__)))

    plain = scan(["/nonexistent/role-a/module_utils"])
    spec = importlib.util.spec_from_file_location("mail_mitogen_linear", sys.argv[1])
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    first = scan(["/nonexistent/role-a/module_utils"])
    compiled = len(plugin._COMPILED)
    second = scan(["/nonexistent/role-b/module_utils"])
    print(json.dumps({
        "patched": [getattr(finder, "compile", None) is plugin._compile_once,
                    getattr(mitogen.master, "compile", None) is plugin._compile_once],
        "same": plain == first == second, "found": len(first),
        "compiled": compiled, "compiled_again": len(plugin._COMPILED) - compiled,
    }))
""")


def test_a_second_scan_under_another_search_path_compiles_nothing_and_finds_the_same():
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"))
    run = subprocess.run([sys.executable, "-c", SCRIPT, os.path.join(ROOT, "plugins", "strategy", "mail_mitogen_linear.py")],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]

    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["patched"] == [True, True]
    # the same module_utils found with and without the cache (basic.py and what it imports)
    assert seen["same"] and seen["found"] > 10, seen
    # the first scan compiled the module and its module_utils once; the second, under another
    # role's search path (a miss in Mitogen's own cache), compiled none of them again
    assert seen["compiled"] > 10 and seen["compiled_again"] == 0, seen
