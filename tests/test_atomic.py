"""Atomic writes: the final file appears whole or not at all."""

import pandas as pd
import pytest

from nxgeo.atomic import atomic_path, write_csv


def test_success_renames(tmp_path):
    target = tmp_path / "a" / "out.txt"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp != target
        tmp.write_text("hello")
    assert target.read_text() == "hello"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failure_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_csv_has_bom_for_excel(tmp_path):
    p = write_csv(pd.DataFrame({"name": ["沙坡头区"], "area_ha": [1.5]}), tmp_path / "t.csv")
    raw = p.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "沙坡头区" in raw.decode("utf-8-sig")
    assert b"\r\n" not in raw
