"""The department's own 双评价 results as an input (issue #15): official layers as constraints
and as grades, the disagreement table and raster."""

from __future__ import annotations

import copy

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from shapely.geometry import box

from nxgeo.config import load_yaml, official_problems
from nxgeo.errors import InputError
from nxgeo.suitability import evaluate_target, grade, suitability_files
from nxgeo.suitability.files import read_outputs
from nxgeo.suitability.official import (
    AGREE,
    BETTER,
    EXCLUDED_HERE,
    NOT_COMPARED,
    OFFICIAL_BIT,
    WORSE,
    apply_official,
    burn_polygons,
    code_array,
    disagreement_raster,
    official_layer_file,
)
from nxgeo.suitability.spec import MASK_LAYERS

CFG = load_yaml("config/config.yaml")
SUIT = CFG["suitability"]
OFF = SUIT["official"]
CLASSES = pd.read_csv("config/landuse/classes.csv")
BREAKS = (70, 40)


def test_code_array_maps_values_and_names_unknown_ones():
    raw = np.array([[1, 2, 3], [0, 2, 9]], dtype=np.int16)
    with pytest.raises(InputError, match=r"eco.tif: class value\(s\) 9 \(1 pixels\)"):
        code_array("ecology", raw, OFF["ecology"]["values"], nodata=0, where="eco.tif")
    raw[1, 2] = 1
    assert code_array(
        "ecology", raw, OFF["ecology"]["values"], nodata=0, where="eco.tif"
    ).tolist() == [[1, 2, 3], [0, 2, 1]]
    # a class map naming a class of another layer
    with pytest.raises(InputError, match="'suitable' is not a class of 生态保护重要性"):
        code_array("ecology", raw, {"1": "suitable"}, where="x")


def test_polygons_burn_with_the_most_important_class_on_top():
    tr = Affine(10, 0, 0, 0, -10, 40)
    gdf = gpd.GeoDataFrame(
        {"class": ["3", "1", 2]},
        geometry=[box(0, 0, 40, 40), box(0, 20, 20, 40), box(10, 10, 30, 30)],
        crs="EPSG:4507",
    )
    out = burn_polygons("ecology", gdf, OFF["ecology"]["values"], (4, 4), tr, where="v")
    assert out.tolist() == [[1, 1, 3, 3], [1, 1, 2, 3], [3, 2, 2, 3], [3, 3, 3, 3]]
    bad = gdf.assign(**{"class": ["3", "7", "7"]})
    with pytest.raises(InputError, match=r"v: field 'class' value\(s\) 7 \(2 polygons\)"):
        burn_polygons("ecology", bad, OFF["ecology"]["values"], (4, 4), tr, where="v")
    with pytest.raises(InputError, match="no field 'class'"):
        burn_polygons(
            "ecology",
            gdf.rename(columns={"class": "DLJB"}),
            OFF["ecology"]["values"],
            (4, 4),
            tr,
            where="v",
        )


def test_official_exclusion_and_grade_hand_case():
    # cropland computed on 4 cells: suitable 85, moderately 50, unsuitable 20, nodata
    score = np.array([85, 50, 20, 255], np.uint8)
    g = np.array([1, 2, 3, 255], np.uint8)
    r = np.array([0, 0, 0, 256], np.uint16)
    eco = np.array([1, 3, 3, 1], np.uint8)  # 极重要 on the first (and the nodata) cell
    agr = np.array([3, 1, 2, 1], np.uint8)  # official: 不适宜 / 适宜 / 一般适宜
    s2, g2, r2, before = apply_official(
        "cropland", score, g, r, {"ecology": eco, "agriculture": agr}, OFF, BREAKS
    )
    # 极重要 excludes cropland: grade 4, score 0, the official reason bit
    assert g2[0] == 4 and s2[0] == 0 and r2[0] & OFFICIAL_BIT
    # the official agriculture grade replaces the computed one, the score moves into its band
    assert g2[1] == 1 and s2[1] == 70
    assert g2[2] == 2 and s2[2] == 40
    # nodata stays nodata (no official grade, no exclusion bit)
    assert g2[3] == 255 and s2[3] == 255 and not r2[3] & OFFICIAL_BIT
    assert before["agriculture"].tolist() == [1, 2, 3, 255]  # computed, for the report
    # forest is neither excluded nor graded by the official layers
    s3, g3, _, b3 = apply_official(
        "forest", score, g, r, {"ecology": eco, "agriculture": agr}, OFF, BREAKS
    )
    assert g3.tolist() == g.tolist() and s3.tolist() == score.tolist() and b3 == {}
    # the disagreement raster: computed 1 vs official 3 -> better; 2 vs 1 -> worse; ...
    d = disagreement_raster(
        np.array([1, 2, 3, 4, 255, 2], np.uint8), np.array([3, 1, 3, 2, 1, 0], np.uint8)
    )
    assert d.tolist() == [BETTER, WORSE, AGREE, EXCLUDED_HERE, NOT_COMPARED, NOT_COMPARED]


@settings(max_examples=100, deadline=None)
@given(
    s=hnp.arrays(np.uint8, 30, elements=st.integers(0, 100)),
    eco=hnp.arrays(np.uint8, 30, elements=st.integers(0, 3)),
    agr=hnp.arrays(np.uint8, 30, elements=st.integers(0, 3)),
)
def test_property_official_grade_agrees_with_score_and_excludes(s, eco, agr):
    g = grade(s, None, BREAKS)
    r = np.zeros(30, np.uint16)
    s2, g2, _, _ = apply_official(
        "cropland", s, g, r, {"ecology": eco, "agriculture": agr}, OFF, BREAKS
    )
    excluded = eco == 1
    assert (g2[excluded] == 4).all() and (s2[excluded] == 0).all()
    graded = ~excluded & (agr > 0)
    assert (g2[graded] == agr[graded]).all()
    assert (grade(s2[~excluded], None, BREAKS) == g2[~excluded]).all()  # score and grade agree
    assert (g2[~excluded & (agr == 0)] == g[~excluded & (agr == 0)]).all()


def test_config_problems_name_the_key():
    cfg = copy.deepcopy(CFG)
    cfg["suitability"]["official"]["ecology"]["exclude"] = {
        "extremely": ["cropland"],
        "important": ["orchard_x"],
    }
    cfg["suitability"]["official"]["agriculture"]["values"] = {"1": "very_important"}
    cfg["inputs"]["rasters"]["official_ecology"] = "e.tif"
    cfg["inputs"]["vectors"]["official_ecology"] = {"path": "e.gpkg"}
    text = "\n".join(official_problems(cfg))
    assert "suitability.official.ecology.exclude: 'extremely' is not a class" in text
    assert "exclude.important: 'orchard_x' is not a target" in text
    assert "agriculture.values: '1' -> 'very_important' is not a class" in text
    assert "given both as inputs.rasters.official_ecology and inputs.vectors" in text
    assert official_problems(CFG) == []


# --- through the block-wise file driver --------------------------------------------------
TR = Affine(100, 0, 500000, 0, -100, 4000000)


def _write(path, arr, nodata=None, tr=TR):
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=arr.shape[0],
        width=arr.shape[1],
        count=1,
        dtype=arr.dtype.name,
        crs="EPSG:4507",
        transform=tr,
        nodata=nodata,
    ) as ds:
        ds.write(arr, 1)
    return path


def _reach(tmp_path, h=6, w=5):
    rng = np.random.default_rng(3)
    layers = {
        "slope": rng.uniform(0, 30, (h, w)),
        "elevation": rng.uniform(1100, 2000, (h, w)),
        "precipitation": rng.uniform(200, 600, (h, w)),
        "distance_water": rng.uniform(0, 5000, (h, w)),
        "distance_roads": rng.uniform(0, 5000, (h, w)),
        "distance_settlements": rng.uniform(0, 5000, (h, w)),
        "ls": np.ones((h, w)),
        "water_quota_modulus": rng.uniform(0, 40, (h, w)),
    }
    layers = {k: v.astype(np.float32) for k, v in layers.items()}
    layers["landuse"] = np.full((h, w), 6, np.uint8)  # grassland everywhere
    layers["landuse"][-1, -1] = 0  # outside the reach
    for m in MASK_LAYERS:
        layers[m] = np.zeros((h, w), np.uint8)
    paths = {
        k: _write(
            tmp_path / "in" / f"{k}.tif",
            a,
            -9999.0 if a.dtype.kind == "f" else (0 if k == "landuse" else None),
        )
        for k, a in layers.items()
    }
    county = np.where(np.arange(w)[None, :] < 2, 640323, 640181).astype(np.int32)
    _write(tmp_path / "in" / "zone_county.tif", np.broadcast_to(county, (h, w)).copy(), 0)
    return layers, paths


def test_file_driver_with_official_layers(tmp_path):
    h, w = 6, 5
    layers, paths = _reach(tmp_path, h, w)
    eco_raw = np.full((h, w), 3, np.int16)
    eco_raw[0, :] = 1  # 极重要 along the first row
    agr_raw = np.full((h, w), 1, np.int16)
    agr_raw[:, 2:] = 3  # 不适宜 in Lingwu's columns
    agr_raw[3, 0] = -1  # raster nodata: not covered
    _write(tmp_path / "raw" / "eco.tif", eco_raw, -1)
    _write(tmp_path / "raw" / "agr.tif", agr_raw, -1)
    off = {}
    for kind, raw in (("ecology", "eco"), ("agriculture", "agr")):
        off[kind] = tmp_path / "off" / f"{kind}.tif"
        official_layer_file(
            kind,
            OFF[kind]["values"],
            paths["landuse"],
            off[kind],
            raster=tmp_path / "raw" / f"{raw}.tif",
            strip_rows=4,
        )
    with rasterio.open(off["agriculture"]) as ds:
        coded = ds.read(1)
    assert coded[3, 0] == 0 and coded[-1, -1] == 255 and coded[0, 3] == 3
    outputs = suitability_files(
        paths,
        tmp_path / "out",
        SUIT,
        CLASSES,
        block_rows=4,
        official=off,
        county=tmp_path / "in" / "zone_county.tif",
        reach="r1",
    )
    got = read_outputs(outputs)
    arrays = {k: v.copy() for k, v in layers.items()}
    _, g, _ = evaluate_target(arrays, "cropland", SUIT["targets"]["cropland"], SUIT, CLASSES)
    crop = got["suit_cropland_grade"]
    inside = layers["landuse"] > 0
    assert (crop[0][inside[0]] == 4).all()  # 极重要 row excluded
    assert (got["suit_cropland_reason"][0][inside[0]] & OFFICIAL_BIT).all()
    body = inside & (np.arange(h)[:, None] > 0)
    comparable = body & (coded > 0) & np.isin(g, (1, 2, 3))
    assert (crop[comparable] == coded[comparable]).all()  # the official grade
    assert (crop[body & (coded == 0)] == g[body & (coded == 0)]).all()  # not covered: computed
    # forest follows its own rules (not a grade target, not excluded by 极重要 here)
    _, gf, _ = evaluate_target(arrays, "forest", SUIT["targets"]["forest"], SUIT, CLASSES)
    assert (got["suit_forest_grade"] == gf).all()
    # the disagreement raster and table: computed cropland grade x official class, by county
    dis = got["official_disagree_agriculture_cropland"]
    assert (dis[comparable & (g == coded)] == AGREE).all()
    assert (dis[comparable & (g < coded)] == BETTER).all()
    table = pd.read_csv(
        outputs["official_disagreement"], dtype={"adcode": str}, encoding="utf-8-sig"
    )
    assert set(table["layer"]) == {"agriculture"} and set(table["target"]) == {"cropland"}
    counted = inside & (coded > 0) & (coded != 255) & (g != 255)
    assert table["cells"].sum() == int(counted.sum())
    for (adcode, cg, oc), n in (
        table.groupby(["adcode", "computed_grade", "official_class"])["cells"].sum().items()
    ):
        col = np.arange(w)[None, :].repeat(h, 0)
        in_county = (col < 2) if adcode == "640323" else (col >= 2)
        code = {"suitable": 1, "moderately_suitable": 2, "unsuitable": 3}[oc]
        assert n == int((counted & in_county & (g == cg) & (coded == code)).sum())
    assert np.allclose(table["area_ha"], table["cells"] * 1.0)  # 100 m pixels: 1 ha
    assert (
        table["agree"]
        == (
            table["computed_grade"]
            == table["official_class"].map(
                {"suitable": 1, "moderately_suitable": 2, "unsuitable": 3}
            )
        )
    ).all()


def test_official_from_polygons_equals_the_raster(tmp_path):
    _, paths = _reach(tmp_path, 6, 5)
    # polygons over the same cells as a raster with 1 in the left two columns, 2 elsewhere
    x0, y0 = 500000, 4000000
    gdf = gpd.GeoDataFrame(
        {"class": ["1", "2"]},
        geometry=[box(x0, y0 - 600, x0 + 200, y0), box(x0 + 200, y0 - 600, x0 + 500, y0)],
        crs="EPSG:4507",
    )
    gpkg = tmp_path / "vectors.gpkg"
    gdf.to_file(gpkg, layer="official_agriculture", driver="GPKG", engine="pyogrio")
    raw = np.where(np.arange(5)[None, :] < 2, 1, 2).repeat(6, 0).astype(np.int16)
    _write(tmp_path / "agr.tif", raw, -1)
    a = official_layer_file(
        "agriculture",
        OFF["agriculture"]["values"],
        paths["landuse"],
        tmp_path / "a.tif",
        vectors_gpkg=gpkg,
        strip_rows=4,
    )
    b = official_layer_file(
        "agriculture",
        OFF["agriculture"]["values"],
        paths["landuse"],
        tmp_path / "b.tif",
        raster=tmp_path / "agr.tif",
    )
    assert a == b and a["suitable"] == 12 and a["moderately_suitable"] == 17
    with rasterio.open(tmp_path / "a.tif") as da, rasterio.open(tmp_path / "b.tif") as db:
        assert (da.read(1) == db.read(1)).all()
