"""Make this checkout importable as the collection gialai.mail, as Ansible imports it.

``.collections/ansible_collections/gialai/mail`` is a committed link to the checkout (the
collections path of ansible.cfg), so ``from ansible_collections.gialai.mail.plugins.plugin_utils.names
import ...`` works here as it does in ansible-playbook. ``ansible_collections`` is a namespace
package: the collections bundled with the ``ansible`` PyPI package stay importable next to it.
"""

import os
import sys

import pytest

COLLECTIONS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".collections"))

if COLLECTIONS_DIR not in sys.path:
    sys.path.insert(0, COLLECTIONS_DIR)

# The repository root, for tests.conformance and tests.helpers.
ROOT_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if ROOT_DIR not in sys.path:
    sys.path.insert(0, ROOT_DIR)


os.environ.setdefault("MAIL_CONFORMANCE_RUN", "unit")
# The tests read Ansible's JSON output on stdout: a callback enabled by the caller's environment (a
# profiler such as ansible.posix.profile_tasks) would write into it and break the parse, not the code.
for _name in ("ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_CALLBACK_WHITELIST"):
    os.environ.pop(_name, None)

import tests.conformance.plugin as _conformance  # noqa: E402
from tests.conformance.plugin import *  # noqa: E402,F401,F403  (conformance report, control marker)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):  # noqa: F811 (extends the plugin's)
    _conformance.pytest_configure(config)
    # passlib 1.7.4 imports the stdlib 'crypt' module, deprecated since Python 3.11.
    config.addinivalue_line(
        "filterwarnings", "ignore:'crypt' is deprecated:DeprecationWarning"
    )
