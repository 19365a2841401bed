"""List helpers that do what Ansible's filters do, for the pure modules that replace them."""

from __future__ import annotations


def unique(values) -> list:
    """Each value once, first first; letter case ignored, as Ansible's ``unique`` filter does
    (the first spelling kept)."""
    seen, out = set(), []
    for value in values:
        key = value.lower() if isinstance(value, str) else value
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def sort_ignoring_case(values) -> list:
    """``values`` sorted as Jinja's ``sort`` sorts them: text by its lower case, stable."""
    return sorted(values, key=lambda v: v.lower() if isinstance(v, str) else v)
