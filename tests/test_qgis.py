"""What a GIS user gets (#17): every raster a valid COG with overviews and a style, the year's
QGIS project, .csvt beside every table — and the whole opened in real QGIS (PyQGIS, headless)."""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin

from nxgeo import gis_styles as gs
from nxgeo.qgis_project import mosaic_vrt, read_project

YEARS = (2023, 2024)
CLASSES = pd.read_csv(ROOT / "config" / "landuse" / "classes.csv")
CTX = gs.StyleContext(
    CLASSES, pd.read_csv(ROOT / "config" / "landuse" / "gbt21010.csv", dtype={"source_code": str})
)
SYSTEM_PYTHON = "/usr/bin/python3"


def _tif(path: Path, a: np.ndarray, nodata, x0=500000.0, y0=4000000.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=a.shape[1],
        height=a.shape[0],
        count=1,
        dtype=a.dtype.name,
        crs="EPSG:4507",
        nodata=nodata,
        transform=from_origin(x0, y0, 100, 100),
    ) as ds:
        ds.write(a, 1)
    return path


# --- styles, hand-checked ---------------------------------------------------------------------
def test_raster_kinds_from_names():
    k = gs.raster_kind
    assert k("a/suit_forest_grade.tif") == "grade" and k("suit_solar_pv_reason.tif") == "reason"
    assert k("suit_wine_grape_score.tif") == "score" and k("best_use_score.tif") == "score"
    assert k("best_use_runner_up.tif") == "best_use" and k("zone_county.tif") == "county"
    assert (
        k("zone_basic_farmland.tif") == "mask" and k("zone_water_quota_modulus.tif") == "continuous"
    )
    assert k("change.tif") == "change" and k("landuse_code.tif") == "landuse_code"
    assert k("services/carbon_stock_t.tif") == "continuous" and k("ownership.tif") == "ownership"
    assert k("official_disagree_agriculture_cropland.tif") == "disagree"


def test_grade_style_only_classes_present_and_excluded_visible(tmp_path):
    a = np.array([[1, 4, 4], [255, 4, 1]], np.uint8)
    p = _tif(tmp_path / "suit_forest_grade.tif", a, 255)
    st_ = gs.write_sidecars(p, CTX)
    assert [c.value for c in st_.categories] == [1, 4]
    excluded = st_.categories[1]
    assert excluded.label == "禁止（硬约束排除） Excluded (hard constraint)"
    assert excluded.colour.lower() not in ("#ffffff", "#fff") and excluded.alpha == 255
    qml = ET.fromstring((tmp_path / "suit_forest_grade.qml").read_text().split("\n", 1)[1])
    r = qml.find("pipe/rasterrenderer")
    assert r.get("type") == "paletted"
    assert [e.get("value") for e in r.iter("paletteEntry")] == ["1", "4"]
    # the PAM: colour table and category names GDAL (and QGIS) read
    with rasterio.open(p) as ds:
        assert ds.colormap(1)[1] == gs._hex_rgba(st_.categories[0].colour)
        assert ds.colorinterp[0].name == "palette"
    pam = ET.parse(str(p) + ".aux.xml").getroot()
    names = [c.text or "" for c in pam.iter("Category")]
    assert names[1] == "适宜 Suitable" and names[2] == "" and len(names) == 256


def test_reason_labels_and_colours_hand_checked(tmp_path):
    a = np.array([[0, 18, 256], [65535, 2, 18]], np.uint16)
    cats = gs.style_for([_tif(tmp_path / "suit_cropland_reason.tif", a, 65535)], CTX).categories
    assert [c.value for c in cats] == [0, 2, 18, 256]
    by = {c.value: c for c in cats}
    assert by[0].alpha == 0  # graded: transparent
    assert by[18].zh == "自然保护地核心保护区；永久基本农田"  # bits 1 and 4
    assert by[18].colour == gs.REASON_COLORS["protected_core"] == by[2].colour
    assert by[256].colour == gs.REASON_COLORS["nodata"]


def test_change_labels_from_and_to(tmp_path):
    a = np.array([[0, 104, 65535]], np.uint16)  # irrigated cropland -> forest
    cats = gs.style_for([_tif(tmp_path / "change.tif", a, 65535)], CTX).categories
    assert [(c.value, c.label) for c in cats] == [
        (0, "未变化 Unchanged"),
        (104, "水浇耕地→林地 Irrigated cropland → Forest"),
    ]
    assert cats[1].colour == CLASSES.set_index("class_id").loc[4, "color"]


def test_landuse_colours_are_the_classes_table(tmp_path):
    a = np.array([[1, 4, 0], [12, 12, 4]], np.uint8)
    cats = gs.style_for([_tif(tmp_path / "landuse.tif", a, 0)], CTX).categories
    table = CLASSES.set_index("class_id")
    assert [(c.value, c.colour, c.zh) for c in cats] == [
        (v, table.loc[v, "color"], table.loc[v, "name_zh"]) for v in (1, 4, 12)
    ]


def test_continuous_ramp_percentiles(tmp_path):
    a = np.arange(100, dtype=np.float32).reshape(10, 10)
    a[0, 0] = -9999.0
    st_ = gs.style_for([_tif(tmp_path / "slope.tif", a, -9999.0)], CTX)
    assert st_.renderer == "singlebandpseudocolor"
    lo, hi = np.percentile(np.arange(1, 100), [2, 98])
    assert (st_.ramp.vmin, st_.ramp.vmax) == (float(f"{lo:.3g}"), float(f"{hi:.3g}"))
    assert gs.style_for([_tif(tmp_path / "suit_x_score.tif", a, -9999.0)], CTX).ramp.vmax == 100


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from([1, 2, 3, 4, 255]), min_size=6, max_size=6))
def test_legend_lists_exactly_the_grades_present(tmp_path_factory, values):
    a = np.array(values, np.uint8).reshape(2, 3)
    p = _tif(tmp_path_factory.mktemp("g") / "suit_forest_grade.tif", a, 255)
    cats = gs.style_for([p], CTX).categories
    assert [c.value for c in cats] == sorted(set(values) - {255})


def test_mosaic_vrt_places_reaches_and_keeps_classes(tmp_path):
    a = _tif(tmp_path / "r/a/best_use.tif", np.array([[1, 255], [2, 2]], np.uint8), 255)
    b = _tif(
        tmp_path / "r/b/best_use.tif", np.array([[3, 3]], np.uint8), 255, x0=500100.0, y0=3999800.0
    )
    legend = pd.DataFrame(
        {
            "code": [0, 1, 2, 3, 255],
            "target": ["none", "cropland", "forest", "grass", "nodata"],
            "name_zh": ["无", "耕地", "林地", "草地", "无数据"],
            "name_en": ["None", "Cropland", "Forest", "Grass", "No data"],
        }
    )
    for d in ("a", "b"):
        legend.to_csv(tmp_path / f"r/{d}/best_use_legend.csv", index=False)
    st_ = gs.style_for([a, b], CTX)
    vrt = mosaic_vrt([a, b], tmp_path / "qgis/best_use.vrt", st_)
    with rasterio.open(vrt) as ds:
        got = ds.read(1)
        assert ds.colormap(1)[3][:3] == gs._hex_rgba(st_.categories[-1].colour)[:3]
    np.testing.assert_array_equal(got, [[1, 255, 255], [2, 2, 255], [255, 3, 3]])
    assert "../r/a/best_use.tif" in vrt.read_text()


def test_csvt_types(tmp_path):
    from nxgeo.atomic import write_csv

    df = pd.DataFrame(
        {
            "adcode": ["640104"],
            "zone_id": [640104],
            "n": [3],
            "area_ha": [1.5],
            "changed": [True],
            "name": ["银川"],
            "big": [2**40],
        }
    )
    p = write_csv(df, tmp_path / "t.csv")
    gs.write_csvt(p)
    assert (tmp_path / "t.csvt").read_text() == (
        '"String","String","Integer","Real","Integer(Boolean)","String","Integer64"\n'
    )


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["uint8", "uint16", "int16", "int32", "int64"]),
    st.lists(st.integers(-70000, 70000), min_size=0, max_size=40),
)
def test_distinct_values_equal_numpy_unique(dtype, values):
    info = np.iinfo(dtype)
    a = np.clip(np.array(values, dtype=np.int64), info.min, info.max).astype(dtype)
    got = gs.distinct_values(a)
    assert got.dtype == a.dtype and np.array_equal(got, np.unique(a))


def test_present_values_per_raster_nodata(tmp_path):
    """Each raster's own nodata is left out; another raster's nodata value may be valid."""
    a = _tif(tmp_path / "a.tif", np.array([[1, 255], [3, 3]], dtype="uint8"), 255)
    b = _tif(tmp_path / "b.tif", np.array([[255, 0], [7, 0]], dtype="uint8"), 0)
    assert gs.present_values([a]) == [1, 3]
    assert gs.present_values([a, b]) == [1, 3, 7, 255]
    assert gs.present_values([b, a]) == [1, 3, 7, 255]


def test_bad_raster_kind_named():
    with pytest.raises(ValueError, match="'continuous' is not a categorical raster kind"):
        gs.categories_for("continuous", ["x.tif"], CTX, present=[1])


# --- the tiny run --------------------------------------------------------------------------------
def _year_rasters(tiny_run, year):
    return sorted((tiny_run / "results" / str(year)).rglob("*.tif"))


@pytest.mark.workflow
def test_every_raster_of_the_run_is_a_valid_cog_with_overviews(tiny_run):
    from rio_cogeo.cogeo import cog_validate

    rasters = sorted((tiny_run / "results").rglob("*.tif"))
    assert len(rasters) > 300
    bad = []
    for p in rasters:
        valid, errors, _warnings = cog_validate(str(p), quiet=True)
        if not valid:
            bad.append((str(p.relative_to(tiny_run)), errors))
    assert not bad, bad[:5]


@pytest.mark.workflow
def test_every_raster_has_its_style_and_every_table_its_csvt(tiny_run):
    for year in YEARS:
        for p in _year_rasters(tiny_run, year):
            assert p.with_suffix(".qml").exists(), p
            if gs.raster_kind(p) in gs.CATEGORICAL and gs.raster_kind(p) != "county":
                assert Path(str(p) + ".aux.xml").exists(), p
            if gs.raster_kind(p) == "reason":
                with rasterio.open(p) as ds:  # outside the area: the declared nodata
                    a = ds.read(1)
                    assert ds.nodata == 65535 and a[0, 0] == 65535
                    assert not np.isin(a, [256]).all()
        for csv in (tiny_run / "results" / str(year)).rglob("*.csv"):
            csvt = csv.with_suffix(".csvt")
            assert csvt.exists(), csv
            types = csvt.read_text().strip().split(",")
            head = pd.read_csv(csv, encoding="utf-8-sig", nrows=0).columns
            assert len(types) == len(head), csv
            if "adcode" in head:
                assert types[list(head).index("adcode")] == '"String"'


@pytest.mark.workflow
def test_project_lists_every_layer_with_relative_paths(tiny_run):
    for year in YEARS:
        qgz = tiny_run / "results" / str(year) / f"nxgeo_{year}.qgz"
        root = ET.fromstring(read_project(qgz).split("\n", 1)[1])
        groups = [g.get("name") for g in root.find("layer-tree-group").findall("layer-tree-group")]
        assert groups[0].startswith("候选地块") and groups[-1] == "底图 Base"
        assert any(g.startswith("输入") for g in groups)
        assert any(g.startswith("适宜性") for g in groups)
        assert any(g.startswith("生态系统服务") for g in groups)
        sources = [m.findtext("datasource") for m in root.iter("maplayer")]
        assert all(s.startswith(("./", "../")) for s in sources), sources
        base = qgz.parent
        for s in sources:
            assert (base / s.split("|")[0]).exists(), s
        renderers = {
            m.findtext("layername"): (
                m.find("pipe/rasterrenderer")
                if m.get("type") == "raster"
                else m.find("renderer-v2")
            ).get("type")
            for m in root.iter("maplayer")
        }
        assert renderers["地形晕渲 Hillshade"] == "hillshade"
        assert renderers["最适宜用途 Best use"] == "paletted"
        assert (year == 2024) == any("变化" in n for n in renderers)


# --- real QGIS -------------------------------------------------------------------------------
def _pyqgis() -> str | None:
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found"
    proc = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, check=False, text=True
    )
    if proc.returncode != 0:
        return "PyQGIS not installed (Debian: apt-get install qgis python3-qgis)"
    return None


@pytest.mark.qgis
@pytest.mark.workflow
def test_year_opens_styled_in_real_qgis(tiny_run, tmp_path):
    why = _pyqgis()
    if why:
        pytest.skip(why)
    png = tmp_path / "nxgeo_2024.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH="")
    proc = subprocess.run(
        [
            SYSTEM_PYTHON,
            str(ROOT / "tests" / "qgis_check.py"),
            str(tiny_run / "results" / "2024"),
            str(png),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rep = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rep["read"]
    assert len(rep["layers"]) >= 60
    assert all(v["valid"] for v in rep["layers"].values()), [
        v["name"] for v in rep["layers"].values() if not v["valid"]
    ]
    # every raster on its own: styled by its .qml, categorical ones paletted with one legend
    # entry per class present
    for rel, info in rep["rasters"].items():
        kind = gs.raster_kind(rel)
        assert info["valid"], rel
        if kind in gs.CATEGORICAL:
            assert info["renderer"] == "paletted", rel
            assert info["classes"] == info["values"], rel
            assert len(info["legend"]) == len(info["values"]), rel
        else:
            assert info["renderer"] == "singlebandpseudocolor", rel
    # the candidates: categorised, legend = the classes present, every field aliased
    for name, info in rep["gpkg"].items():
        assert info["renderer"] == "categorizedSymbol", name
        assert all(a for f, a in info["aliases"].items() if f != "fid"), name
        assert info["widgets"]["grade"] == "ValueMap"
        assert info["types"]["allocated"].lower() in ("boolean", "bool"), info["types"]["allocated"]
    # the rendered map is not blank: candidates and hillshade drawn, many colours
    r = rep["render"]
    assert "地形晕渲 Hillshade" in r["layers_drawn"] and "最适宜用途 Best use" in r["layers_drawn"]
    assert r["non_background_share"] > 0.3 and r["colours"] > 20, r
    assert png.stat().st_size > 20_000
