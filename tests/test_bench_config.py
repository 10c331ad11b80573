"""benchmarks/bench_lib.bench_config: the config `make bench` runs is the shipped one at another
resolution with every input in the cached sample (on 2026-12-01 the ownership rasters, added to
the shipped config after the bench was written, still pointed at data/sample/ and `make bench`
stopped at its first DAG)."""

from __future__ import annotations

import sys

import yaml
from conftest import ROOT

from nxgeo.config import check_config

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_lib as B


def _strings(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node


def test_every_sample_input_points_at_the_cached_sample(tmp_path):
    path = B.bench_config(30, tmp_path)
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cache = str(B.sample_dir(30))
    left = [s for s in _strings(cfg) if s.startswith("data/sample/")]
    assert not left, f"inputs still in the repository's sample folder: {left}"
    inputs = [s for s in _strings(cfg["inputs"]) if s.startswith(cache)]
    # land use and ownership of both years, DEM, precipitation, the vectors and the tables
    assert any(s.endswith("ownership_2023.tif") for s in inputs)
    assert any(s.endswith("landuse_2024.tif") for s in inputs)
    assert cfg["grid"]["resolution"] == 30.0
    check_config(cfg)  # a valid config: the bench fails on the pipeline, never on its config
