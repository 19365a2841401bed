"""The filter table of plugins/filter/ as Ansible builds it: one file per filter, each a thin
FilterModule over a function of plugins/plugin_utils/."""

from __future__ import annotations

import importlib
import pathlib

FILTER_DIR = pathlib.Path(__file__).resolve().parents[2] / "plugins" / "filter"
COLLECTION = "ansible_collections.gialai.mail"
UTILS = f"{COLLECTION}.plugins.plugin_utils"


def filter_plugins() -> dict[str, object]:
    """{file stem: imported filter module} of every plugins/filter/*.py, through the collection."""
    return {path.stem: importlib.import_module(f"{COLLECTION}.plugins.filter.{path.stem}")
            for path in sorted(FILTER_DIR.glob("*.py"))}


def filters_from(module: str) -> dict[str, object]:
    """{filter name: function} of the filters whose function lives in plugin_utils/<module>.py."""
    table = {}
    for plugin in filter_plugins().values():
        for name, func in plugin.FilterModule().filters().items():
            if func.__module__ == f"{UTILS}.{module}":
                table[name] = func
    return table
