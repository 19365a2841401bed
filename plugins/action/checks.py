"""gialai.mail.checks: a role's input checks, in order, in one task (see plugins/modules/checks.py)."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

_KEYS = {"name", "that", "msg", "when", "vars", "loop", "loop_var"}


def _as_list(value: t.Any) -> list:
    return value if isinstance(value, list) else [value]


class ActionModule(ActionBase):
    """Evaluate checks one after another on the controller; fail with the first failed check's message.

    Each check is an `ansible.builtin.assert` written as a list entry: `that` (conditions), `msg`
    (the message when one is false), and optionally `when`, `vars`, `loop` and `loop_var`. The
    checks are not templated before the run: a check's `vars`, `loop` and `msg` are templated when
    the check is reached, and `msg` only when it fails, so a later check may rely on an earlier one
    (a condition on an entry's type before its fields) exactly as a later assert task may.
    """

    _requires_connection = False

    @classmethod
    def finalize_task_arg(cls, name: str, value: t.Any, templar: t.Any, context: t.Any) -> t.Any:
        if name == "checks":
            return value  # templated one check at a time, in run()
        return super().finalize_task_arg(name, value, templar, context)

    def _engine(self, extra: dict) -> t.Any:
        return self._templar.copy_with_new_env(available_variables={**self._templar.available_variables, **extra})

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        checks = self._task.args.get("checks")
        unknown = set(self._task.args) - {"checks"}
        if unknown:
            raise AnsibleActionFail(f"unknown option(s) {sorted(unknown)}: checks takes only 'checks'")
        if not isinstance(checks, list) or not checks:
            raise AnsibleActionFail("'checks' must be a non-empty list of checks")
        evaluated = 0
        for index, check in enumerate(checks, start=1):
            if not isinstance(check, dict) or "that" not in check or "msg" not in check:
                raise AnsibleActionFail(f"check {index} must be a mapping with 'that' and 'msg'")
            if set(check) - _KEYS:
                raise AnsibleActionFail(f"check {index} ({check.get('name', '?')}): unknown key(s) "
                                        f"{sorted(set(check) - _KEYS)}; known: {sorted(_KEYS)}")
            extra = dict(check.get("vars") or {})
            templar = self._engine(extra)
            if not all(templar.evaluate_conditional(c) for c in _as_list(check.get("when", True))):
                continue
            loop_var = check.get("loop_var", "item")
            items = templar.template(check["loop"]) if "loop" in check else [None]
            if not isinstance(items, list):
                raise AnsibleActionFail(f"check {index} ({check.get('name', '?')}): loop must be a list, "
                                        f"got {type(items).__name__}")
            for item in items:
                scope = templar if "loop" not in check else self._engine({**extra, loop_var: item})
                for that in _as_list(check["that"]):
                    evaluated += 1
                    if not scope.evaluate_conditional(that):
                        result.update(failed=True, msg=scope.template(check["msg"]), assertion=that,
                                      check=check.get("name", index))
                        if "loop" in check:
                            result[loop_var] = item
                        return result
        result.update(changed=False, msg=f"{len(checks)} checks passed ({evaluated} conditions)")
        return result
