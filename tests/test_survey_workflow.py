"""Workflow test (#15): the tiny sample's land use given as DLTB polygons runs the whole DAG."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import yaml
from conftest import run_snakemake, tiny_config

pytestmark = [pytest.mark.workflow, pytest.mark.slow]  # a whole pipeline run on polygons


@pytest.fixture(scope="module")
def polygon_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("polygon_run")
    path = tiny_config(workdir)
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["inputs"]["landuse"]["format"] = "polygons"
    cfg["inputs"]["landuse"]["files"] = {y: f"data/sample/dltb_{y}.gpkg" for y in cfg["years"]}
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    run_snakemake(workdir, timeout=2400)
    return workdir, cfg


def test_polygon_inventory_matches_the_polygon_areas(polygon_run):
    workdir, cfg = polygon_run
    for year in cfg["years"]:
        t = workdir / "results" / str(year) / "tables"
        rec = pd.read_csv(t / "inventory_polygons_reconcile.csv")
        assert (rec["difference_m2"] == 0).all()
        dltb = gpd.read_file(
            workdir / f"data/sample/dltb_{year}.gpkg", layer="DLTB", engine="pyogrio"
        )
        by = pd.read_csv(t / "inventory_polygons_by_code.csv", dtype={"zone_id": str, "dlbm": str})
        county = by[by["zone_kind"] == "county"]
        # county sums of the polygon inventory = the DLTB's TBDLMJ + KCMJ, to the 0.01 m²
        want = int(np.round(dltb["TBDLMJ"] * 100).sum() + np.round(dltb["KCMJ"] * 100).sum())
        assert int(np.round(county["area_m2"] * 100).sum()) == want
        hand = dltb.assign(c=dltb["ZLDWDM"].str[:6]).groupby(["c", "DLBM"])["TBDLMJ"].sum()
        got = county[county["dlbm"] != "1203"].set_index(["zone_id", "dlbm"])["area_m2"]
        np.testing.assert_allclose(
            got.sort_index().to_numpy(), hand.sort_index().to_numpy(), atol=0.006
        )
        grp = pd.read_csv(t / "inventory_polygons_by_group.csv")
        assert set(grp["group_zh"]) == {"农用地", "建设用地", "未利用地"}
        own = pd.read_csv(t / "inventory_polygons_ownership.csv")
        assert {"state", "collective"} <= set(own["ownership"])
        vs = pd.read_csv(t / "inventory_polygons_vs_raster.csv")
        tot = vs[vs["zone_kind"] == "county"][["area_ha_polygons", "area_ha_raster"]].sum()
        assert abs(tot["area_ha_raster"] - tot["area_ha_polygons"]) < 0.05 * tot["area_ha_polygons"]


def test_rasterised_land_use_and_ownership_feed_every_step(polygon_run):
    workdir, cfg = polygon_run
    res = workdir / "results"
    year = cfg["years"][-1]
    for reach in cfg["reaches"]:
        with rasterio.open(res / str(year) / "reaches" / reach / "ownership.tif") as ds:
            assert ds.nodata == 255 and ds.dtypes[0] == "uint8"
    with rasterio.open(res / str(year) / "grid" / "ownership.tif") as ds:
        assert {1, 2} <= set(np.unique(ds.read(1)).tolist())
    assert (res / str(year) / "candidates.gpkg").exists()
    assert (res / str(year) / "report" / "index.html").exists()
    a, b = cfg["compare"][0]
    ch = pd.read_csv(res / str(b) / "compare" / f"{a}_{b}" / "ownership_change.csv")
    assert {"change_ha", "change_mu", f"area_ha_{a}", f"area_ha_{b}"} <= set(ch.columns)
    rep = (res / str(year) / "validation" / "report.md").read_text(encoding="utf-8")
    assert "dltb_" in rep or "polygons" in rep
