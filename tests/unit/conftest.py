"""Make the filter plugins importable as plain modules (mail_names, mail_passwords, ...)."""

import os
import sys

FILTER_DIR = os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "filter")
)

if FILTER_DIR not in sys.path:
    sys.path.insert(0, FILTER_DIR)

# The repository root, for tests.conformance and tests.helpers.
ROOT_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if ROOT_DIR not in sys.path:
    sys.path.insert(0, ROOT_DIR)


def pytest_configure(config):
    config.addinivalue_line("markers", "control(id): the conformance control a test proves")
    # passlib 1.7.4 imports the stdlib 'crypt' module, deprecated since Python 3.11.
    config.addinivalue_line(
        "filterwarnings", "ignore:'crypt' is deprecated:DeprecationWarning"
    )
