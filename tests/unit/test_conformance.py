"""The conformance catalogue is complete and every test names real controls."""

from __future__ import annotations

import pathlib
import textwrap

import pytest

import tests.conformance.catalogue as cat
from tests.conformance.catalogue import catalogue, load_controls, scan_tests

MIN_CONTROLS = 74  # 65 + BAK-01..09 (backup.yml)


def test_catalogue_loads_with_bilingual_titles_and_sources():
    controls = load_controls()
    assert len(controls) >= MIN_CONTROLS
    for control in controls.values():
        assert control.title_vi != control.title_en, control.id
        assert any(ch in control.title_vi for ch in "ăâđêôơưáàảãạếềệọớờợụứừựíìị"), f"{control.id}: title_vi is not Vietnamese"


def test_every_control_has_a_test():
    orphans = sorted(cid for cid, control in catalogue().items() if not control.tests)
    assert orphans == [], f"controls without a test that proves them: {orphans}"


def test_every_test_names_only_known_controls():
    known = load_controls()
    unknown = {test: [c for c in ids if c not in known] for test, ids in scan_tests().items()}
    unknown = {t: ids for t, ids in unknown.items() if ids}
    assert unknown == {}, f"tests naming controls not in tests/conformance/controls: {unknown}"


def test_malformed_and_duplicate_controls_are_refused(tmp_path: pathlib.Path):
    good = textwrap.dedent("""\
        - id: X-01
          area: x
          title_en: English
          title_vi: Tiếng Việt
          source: [R1]
          how: test
    """)
    (tmp_path / "a.yml").write_text(good)
    assert list(load_controls(tmp_path)) == ["X-01"]
    (tmp_path / "b.yml").write_text(good)
    with pytest.raises(ValueError, match="X-01 is also defined in a.yml"):
        load_controls(tmp_path)
    (tmp_path / "b.yml").write_text(good.replace("X-01", "X-02").replace("  how: test\n", ""))
    with pytest.raises(ValueError, match="b.yml entry 1 .X-02.: missing how"):
        load_controls(tmp_path)


def test_scanner_finds_function_and_module_markers(tmp_path: pathlib.Path):
    (tmp_path / "test_x.py").write_text(textwrap.dedent("""\
        import pytest
        pytestmark = [pytest.mark.control("M-01")]

        @pytest.mark.control("A-01", "A-02")
        @pytest.mark.parametrize("p", [1])
        def test_a(p):
            pass

        def test_b():
            pass

        def helper():
            pass
    """))
    old = cat.ROOT
    cat.ROOT = tmp_path
    try:
        found = {k.split("::")[1]: v for k, v in scan_tests((tmp_path,)).items()}
    finally:
        cat.ROOT = old
    assert found == {"test_a": ["M-01", "A-01", "A-02"], "test_b": ["M-01"]}
