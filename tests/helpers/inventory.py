"""The groups of each host in an Ansible YAML inventory (Molecule's, or a hand-written one)."""

from __future__ import annotations

import os
import pathlib
from collections import defaultdict

import yaml


def group_map(inventory: str | os.PathLike) -> dict[str, set[str]]:
    """{host: its groups}. Molecule writes each group as a top-level key (`mail_webmail:
    {hosts: ...}`); a hand-written inventory nests them under `all.children`. Both are walked,
    children included; `all` is not a group of a role."""
    groups: dict[str, set[str]] = defaultdict(set)

    def walk(name: str, node: dict, parents: list[str]) -> None:
        node = node or {}
        for host in node.get("hosts") or {}:
            groups[host].update(g for g in parents + [name] if g != "all")
        for child, sub in (node.get("children") or {}).items():
            walk(child, sub, parents + [name])

    data = yaml.safe_load(pathlib.Path(inventory).read_text(encoding="utf-8")) or {}
    for name, node in data.items():
        if isinstance(node, dict):
            walk(name, node, [])
    return groups


def inventory_groups(inventory: str | os.PathLike, host: str) -> tuple[str, ...]:
    """The groups `host` is in (sorted; `ungrouped` left out)."""
    return tuple(sorted(group_map(inventory).get(host, set()) - {"ungrouped"}))
