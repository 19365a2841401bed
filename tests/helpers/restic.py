"""restic on the controller, for the unit tests that make real repositories.

scripts/setup.sh installs it; a machine set up by hand without it skips those
tests (named in the skip reason) instead of failing on a missing binary.
"""

from __future__ import annotations

import shutil

import pytest

RESTIC = shutil.which("restic")
needs_restic = pytest.mark.skipif(RESTIC is None, reason="restic is not installed (scripts/setup.sh installs it)")
