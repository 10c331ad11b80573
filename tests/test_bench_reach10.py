"""benchmarks/reach_10m.py: the config of the one-reach 10 m run is valid and reads only the
region cut down to the reach's counties (vectors and county tables in the run folder), so the
grid is the reach's extent, not all of Ningxia. No pipeline run: a tiny sample (2 km) is cut."""

from __future__ import annotations

import sys

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from conftest import ROOT, TINY

from nxgeo.config import check_config

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_lib as B
import reach_10m as R

REACH = "yinchuan"
COUNTIES = ["640104", "640105", "640106", "640121", "640122", "640181"]  # Yinchuan + Lingwu


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from nxgeo.sample import build_sample

    out = tmp_path_factory.mktemp("sample") / "sample_2000m"
    build_sample(
        ROOT / "data" / "reference" / "ningxia",
        out,
        resolution=float(TINY["resolution"]),
        seed=B.SAMPLE_PARAMS["seed"],
        n_homesteads=TINY["n_homesteads"],
        n_mines=TINY["n_mines"],
        years=tuple(B.SAMPLE_PARAMS["years"]),
    )
    return out


@pytest.fixture(scope="module")
def cut(sample, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("reach10")
    path, info = R.reach_config(REACH, 10.0, run_dir, sample, TINY["resolution"])
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    return run_dir, cfg, info


def test_config_is_valid_at_10_m_for_one_reach(cut):
    _, cfg, info = cut
    check_config(cfg)
    assert cfg["grid"]["resolution"] == 10.0
    assert cfg["reaches"] == [REACH]
    assert info["counties"] == COUNTIES
    # the grid is the cut region's, far below all of Ningxia and within the pixel cap
    full = info["full_grid"][0] * info["full_grid"][1]
    assert info["grid_pixels"] < full / 5
    assert info["grid_pixels"] <= cfg["grid"]["max_pixels"]
    assert 0 < info["reach_window_pixels"] <= info["grid_pixels"]


def test_vectors_and_county_tables_are_the_cut_copies(cut, sample):
    run_dir, cfg, info = cut
    inputs = str(run_dir / "inputs")
    vec = cfg["inputs"]["vectors"]
    for key, spec in vec.items():
        if spec:
            assert spec["path"].startswith(inputs), (key, spec["path"])
            assert not spec["path"].startswith(str(sample)), key
    for name in R.COUNTY_TABLES:
        assert cfg["inputs"]["tables"][name].startswith(inputs), name
        df = pd.read_csv(cfg["inputs"]["tables"][name], dtype={"adcode": str})
        assert sorted(set(df["adcode"])) == COUNTIES, name
    counties = gpd.read_file(vec["counties"]["path"], layer=vec["counties"]["layer"])
    assert sorted(counties[vec["counties"]["fields"]["id"]].astype(str)) == COUNTIES
    reaches = gpd.read_file(vec["reaches"]["path"], layer=vec["reaches"]["layer"])
    assert list(reaches[vec["reaches"]["fields"]["id"]]) == [REACH]
    # every other layer: only features touching the cut counties (the distance layers within
    # terrain.distance_max_m of them); a layer with none there is copied whole (yinchuan's
    # counties have no homesteads and no emigration areas)
    region = counties.to_crs(cfg["grid"]["crs"]).geometry.union_all()
    near = region.buffer(cfg["terrain"]["distance_max_m"] + 1)
    assert sorted(info["kept_whole"]) == ["emigration_areas", "homesteads"]
    for key, spec in vec.items():
        if not spec or key in ("counties", "reaches"):
            continue
        gdf = gpd.read_file(spec["path"], layer=spec["layer"]).to_crs(cfg["grid"]["crs"])
        assert len(gdf) == info["features"][key] > 0, key
        hit = gdf.geometry.intersects(near if key in R.DISTANCE_LAYERS else region.buffer(1))
        if key in info["kept_whole"]:
            assert not hit.any(), key
        else:
            assert hit.all(), key
    assert info["features"]["mines"] > 0  # the mines pathway has parcels to work on
    # rasters are read from the sample as they are (the grid's window only)
    assert cfg["inputs"]["rasters"]["dem"].startswith(str(sample))


def test_a_reach_whose_cut_misses_a_layer_is_refused(sample, tmp_path):
    # shizuishan's counties have no emigration areas, and the layer's extent misses them: a
    # layer validation would refuse
    with pytest.raises(SystemExit, match="emigration_areas.*choose another reach"):
        R.reach_config("shizuishan", 10.0, tmp_path, sample, TINY["resolution"])
