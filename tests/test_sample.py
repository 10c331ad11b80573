"""The embedded sample region generator (nxgeo.sample), built at 2000 m."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio import features
from rasterio.warp import Resampling, reproject

from nxgeo.config import load_yaml
from nxgeo.landuse import load_scheme
from nxgeo.sample import build_sample, quicklook, sample_files
from nxgeo.sample.noise import Lattice, random_lattice

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "data" / "reference" / "ningxia"
SEED = 20240601
KW = {"resolution": 2000.0, "n_homesteads": 300, "n_mines": 60, "years": (2023, 2024)}


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample_a")
    paths = build_sample(REF, out, seed=SEED, **KW)
    return out, paths


@pytest.fixture(scope="module")
def scheme():
    return load_scheme("gbt21010", ROOT / "config" / "landuse")


@pytest.fixture(scope="module")
def lu(sample):
    out, _ = sample
    with rasterio.open(out / "landuse_2023.tif") as src:
        a = src.read(1)
        meta = src.profile
    with rasterio.open(out / "landuse_2024.tif") as src:
        b = src.read(1)
    return a, b, meta


def _config_sample_items(cfg: dict) -> dict[str, str | None]:
    """{path under data/sample/: layer or None} for every input the config points there."""
    items: dict[str, set] = {}
    inputs = cfg["inputs"]
    paths = list(inputs["landuse"]["files"].values()) + list(inputs["rasters"].values())
    paths += list(inputs["tables"].values()) + list(inputs["landuse"]["ownership"].values())
    for p in paths:
        if p:
            items.setdefault(p, set())
    # the same land use as DLTB polygons, for `format: polygons` (config comment, docs/survey.md)
    for y in inputs["landuse"]["files"]:
        items.setdefault(f"data/sample/dltb_{y}.gpkg", set()).add(
            inputs["landuse"]["polygons"]["layer"]
        )
    for v in inputs["vectors"].values():
        if v:
            items.setdefault(v["path"], set()).add(v.get("layer"))
    return {
        p[len("data/sample/") :]: layers
        for p, layers in items.items()
        if p.startswith("data/sample/")
    }


def test_writes_exactly_the_config_sample_files(sample):
    out, paths = sample
    wanted = _config_sample_items(load_yaml(ROOT / "config" / "config.yaml"))
    written = set(_digest(out))
    assert written == set(wanted), written ^ set(wanted)
    assert {p.relative_to(out).as_posix() for p in paths.values()} == written
    assert set(sample_files(KW["years"]).values()) == written
    for rel, layers in wanted.items():
        layers = {x for x in layers if x}
        if layers:
            import pyogrio

            have = {name for name, _ in pyogrio.list_layers(out / rel)}
            assert layers <= have, (rel, layers - have)


def test_same_seed_same_bytes_other_seed_other_dem(sample, tmp_path):
    out, _ = sample
    again = tmp_path / "again"
    build_sample(REF, again, seed=SEED, **KW)
    assert _digest(out) == _digest(again)
    other = tmp_path / "other"
    build_sample(REF, other, seed=SEED + 1, **KW)
    with rasterio.open(out / "dem.tif") as a, rasterio.open(other / "dem.tif") as b:
        assert not np.array_equal(a.read(1), b.read(1))


def test_pixels_do_not_depend_on_the_block_size(sample, tmp_path, monkeypatch):
    from nxgeo import grid  # the one Grid class (the sample's strips are nxgeo.grid's)

    out, _ = sample
    monkeypatch.setattr(grid, "STRIP_ROWS", 48)
    small = tmp_path / "small_blocks"
    build_sample(REF, small, seed=SEED, **KW)
    for name in ("dem.tif", "precipitation.tif", "landuse_2023.tif", "landuse_2024.tif"):
        with rasterio.open(out / name) as a, rasterio.open(small / name) as b:
            assert a.height > 48
            assert np.array_equal(a.read(1), b.read(1)), name


def test_crs_and_raster_metadata(sample):
    out, _ = sample
    expect = {
        "dem.tif": 4490,
        "precipitation.tif": 4496,
        "landuse_2023.tif": 4507,
        "landuse_2024.tif": 4507,
    }
    for name, epsg in expect.items():
        with rasterio.open(out / name) as src:
            assert src.crs.to_epsg() == epsg, name
            assert src.nodata is not None
            if name.startswith("landuse"):
                assert src.dtypes[0] == "int16" and src.nodata == 0
            else:
                assert src.dtypes[0] == "float32" and src.nodata == -9999
    with rasterio.open(out / "landuse_2023.tif") as src:
        assert src.res == (2000.0, 2000.0)
    vec = {
        ("vector/counties.geojson", None): 4490,
        ("vector/homesteads.gpkg", "homesteads"): 4544,
        ("vector/mines.gpkg", "mines"): 4523,
        ("vector/reaches.gpkg", "reaches"): 4507,
        ("vector/water.gpkg", "rivers"): 4490,
        ("vector/zones.gpkg", "protected_areas"): 4507,
    }
    for (rel, layer), epsg in vec.items():
        assert gpd.read_file(out / rel, layer=layer).crs.to_epsg() == epsg, rel


def test_vector_fields(sample):
    out, _ = sample
    c = gpd.read_file(out / "vector" / "counties.geojson")
    assert len(c) == 22
    assert {"adcode", "name_zh", "name_en", "city_zh", "city_en"} <= set(c.columns)
    assert (
        c["adcode"]
        .map(lambda s: isinstance(s, str) and re.fullmatch(r"\d{6}", s) is not None)
        .all()
    )
    r = gpd.read_file(out / "vector" / "reaches.gpkg", layer="reaches")
    cfg = load_yaml(ROOT / "config" / "config.yaml")
    assert sorted(r["reach_id"]) == sorted(cfg["reaches"])
    p = gpd.read_file(out / "vector" / "zones.gpkg", layer="protected_areas")
    assert set(p["zone"]) == {"core", "buffer", "experimental"}
    assert len(set(p["name"])) == 7
    for layer, field in (
        ("ecological_redline", "redline_id"),
        ("basic_farmland", "farmland_id"),
        ("emigration_areas", "area_id"),
    ):
        g = gpd.read_file(out / "vector" / "zones.gpkg", layer=layer)
        assert len(g) > 0 and g[field].is_unique, layer
    em = gpd.read_file(out / "vector" / "zones.gpkg", layer="emigration_areas")
    nine = set(cfg["pathways"]["homestead_greening"]["counties"])
    assert set(em["adcode"]) == nine
    assert len(gpd.read_file(out / "vector" / "zones.gpkg", layer="sand_areas")) == 3
    assert len(gpd.read_file(out / "vector" / "zones.gpkg", layer="mining_areas")) == 1
    canals = gpd.read_file(out / "vector" / "water.gpkg", layer="canals")
    assert len(canals) >= 4 and canals["canal_id"].is_unique
    s = gpd.read_file(out / "vector" / "infrastructure.gpkg", layer="settlements")
    assert (s["kind"] == "county_seat").sum() == 22 and s["settlement_id"].is_unique
    roads = gpd.read_file(out / "vector" / "infrastructure.gpkg", layer="roads")
    assert roads["road_id"].is_unique and set(roads["kind"]) <= {"expressway", "national", "rural"}


def test_dem_range(sample):
    out, _ = sample
    with rasterio.open(out / "dem.tif") as src:
        z = src.read(1, masked=True)
    assert z.min() < 1250  # the Yellow River near Shizuishan is at ~1090 m
    assert z.max() > 2800  # Helan and Liupan crests


def test_precipitation_north_to_south(sample):
    out, _ = sample
    with rasterio.open(out / "precipitation.tif") as src:
        p = src.read(1, masked=True)
    h = p.shape[0]
    assert np.ma.median(p[: h // 10]) < 250
    assert p[-h // 5 :].max() > 550
    assert p.min() >= 120 and p.max() < 900


def test_landuse_codes_are_gbt21010(lu, scheme):
    a, b, _meta = lu
    for arr in (a, b):
        assert scheme.unknown_codes(arr, nodata=0) == {}
        assert (arr != 0).mean() > 0.3
    codes = set(np.unique(a).tolist()) - {0}
    for must in (102, 103, 301, 305, 401, 1205, 1101, 702, 602):
        assert must in codes, must


def _burn(gdf, meta) -> np.ndarray:
    geoms = gdf.to_crs(meta["crs"]).geometry.values
    return features.rasterize(
        [(g, 1) for g in geoms],
        out_shape=(meta["height"], meta["width"]),
        transform=meta["transform"],
        dtype="uint8",
    ).astype(bool)


def test_sand_mostly_in_the_sand_areas(sample, lu):
    out, _ = sample
    a, _, meta = lu
    sand = _burn(gpd.read_file(out / "vector" / "zones.gpkg", layer="sand_areas"), meta)
    sandy = a == 1205
    assert sandy.sum() > 50
    assert sandy[sand].sum() / sandy.sum() > 0.6


def test_forest_on_the_mountains(sample, lu, scheme):
    out, _ = sample
    a, _, meta = lu
    z = np.zeros(a.shape, np.float32)
    with rasterio.open(out / "dem.tif") as src:
        reproject(
            rasterio.band(src, 1),
            z,
            dst_transform=meta["transform"],
            dst_crs=meta["crs"],
            resampling=Resampling.bilinear,
        )
    canon = scheme.to_canonical(a, nodata=0)
    forest = canon == scheme.class_id("forest")
    valid = a != 0
    assert forest.sum() > 20
    assert z[forest].mean() > z[valid].mean() + 200
    # most forest is in the Helan or Liupan Mountains (or the other southern ranges)
    rows = np.arange(a.shape[0])[:, None] * np.ones(a.shape)
    h = a.shape[0]
    helan_or_south = (rows < 0.4 * h) | (rows > 0.6 * h)
    assert (forest & helan_or_south).sum() / forest.sum() > 0.7


def test_irrigated_cropland_near_the_yellow_river(sample, lu):
    out, _ = sample
    a, _, meta = lu
    river = gpd.read_file(out / "vector" / "water.gpkg", layer="rivers").to_crs(meta["crs"])
    yellow = river.loc[river["river_id"] == "yellow"].geometry.iloc[0]
    t = meta["transform"]
    rr, cc = np.nonzero(a != 0)
    x = t.c + (cc + 0.5) * t.a
    y = t.f + (rr + 0.5) * t.e
    d = shapely.distance(shapely.points(x, y), yellow)
    irr = np.isin(a[rr, cc], (101, 102))
    assert irr.sum() > 50
    assert np.median(d[irr]) < 0.3 * np.median(d)


def test_homesteads_and_mines(sample):
    out, _ = sample
    h = gpd.read_file(out / "vector" / "homesteads.gpkg", layer="homesteads")
    assert len(h) == KW["n_homesteads"] and h["parcel_id"].is_unique
    assert h["parcel_id"].str.fullmatch(r"HS-\d{6}").all()
    share = h["status"].value_counts(normalize=True)
    assert set(share.index) == {"idle", "occupied", "demolished"}
    assert 0.35 <= share["occupied"] <= 0.55
    assert 0.25 <= share["idle"] <= 0.45
    assert 0.10 <= share["demolished"] <= 0.30
    area_ha = h.geometry.area / 1e4
    assert area_ha.min() >= 0.0199 and area_ha.max() <= 0.2001
    em = gpd.read_file(out / "vector" / "zones.gpkg", layer="emigration_areas").to_crs(h.crs)
    inside = shapely.contains(shapely.union_all(em.geometry.values), h.geometry.centroid.values)
    assert inside.mean() > 0.6
    assert (h["status_2023"] != h["status_2024"]).any()

    m = gpd.read_file(out / "vector" / "mines.gpkg", layer="mines")
    assert len(m) == KW["n_mines"] and m["mine_id"].is_unique
    share = m["status"].value_counts(normalize=True)
    assert 0.30 <= share["abandoned"] <= 0.50
    assert 0.20 <= share["closed"] <= 0.40
    assert 0.20 <= share["operating"] <= 0.40
    area_ha = m.geometry.area / 1e4
    assert area_ha.min() >= 0.49 and area_ha.max() <= 30.01
    assert set(m["legacy"].astype(bool)) <= {True, False}
    area = gpd.read_file(out / "vector" / "zones.gpkg", layer="mining_areas").to_crs(m.crs)
    in_area = shapely.contains(shapely.union_all(area.geometry.values), m.geometry.centroid.values)
    assert in_area.mean() > 0.6
    assert ((m["status_2023"] == "operating") & (m["status"] == "closed")).any()


def test_years_differ_a_little(lu):
    a, b, _ = lu
    valid = a != 0
    changed = (a != b)[valid].mean()
    assert 0.001 < changed < 0.10
    assert np.array_equal(a == 0, b == 0)


def test_county_tables(sample):
    out, _ = sample
    counties = set(gpd.read_file(out / "vector" / "counties.geojson")["adcode"])
    frames = {}
    for name in ("water_budgets", "greening_targets", "county_emissions"):
        raw = (out / "tables" / f"{name}.csv").read_text(encoding="utf-8").splitlines()
        assert raw[0].startswith("adcode,year,")
        df = pd.read_csv(out / "tables" / f"{name}.csv", dtype={"adcode": str})
        assert df["adcode"].str.fullmatch(r"\d{6}").all()
        keys = set(zip(df["adcode"], df["year"]))
        assert keys == {(c, y) for c in counties for y in KW["years"]}, name
        assert len(df) == len(keys)
        frames[name] = df
    w = frames["water_budgets"]
    head = w["allocation_m3"] - w["consumption_m3"] - w["reserve_m3"]
    assert (head <= 0).any() and (head > 0).sum() > len(w) / 2
    total = w.groupby("year")["allocation_m3"].sum()
    assert ((total > 3e9) & (total < 1e10)).all()
    assert (frames["greening_targets"]["target_ha"] >= 0).all()
    assert (frames["county_emissions"]["emission_t_co2"] > 0).all()


def test_quicklook(sample, tmp_path):
    out, _ = sample
    png = quicklook(out, tmp_path / "ql.png", landuse_dir=ROOT / "config" / "landuse")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_noise_is_block_independent():
    lat = random_lattice(7, "t", (0.0, 0.0, 10_000.0, 10_000.0), 500.0, 500.0)
    u = np.linspace(100.0, 9_900.0, 97)
    v = np.linspace(9_900.0, 100.0, 101)
    whole = lat.grid(u, v)
    parts = np.vstack([lat.grid(u, v[:37]), lat.grid(u, v[37:])])
    assert np.array_equal(whole, parts)
    pts = lat.points(np.broadcast_to(u, whole.shape), np.broadcast_to(v[:, None], whole.shape))
    assert np.allclose(whole, pts, atol=1e-4)
    lin = Lattice(np.arange(12.0).reshape(3, 4), 0.0, 1.0, 0.0, 1.0, order=1)
    assert lin.grid(np.array([0.5, 2.0]), np.array([1.0]), dtype=np.float64).tolist() == [
        [4.5, 6.0]
    ]


def test_dltb_polygons_and_ownership_agree_with_the_rasters(sample, lu, tmp_path):
    """The generator's DLTB (#15) is its land use polygonised: rasterised back onto the land-use
    grid it gives the same codes, and the ownership raster is its QSXZ; state-owned barren,
    sandy and unused grassland exist (the state_wasteland pathway's land)."""
    import geopandas as gpd

    from nxgeo.grid import Grid
    from nxgeo.survey.rasterise import rasterise_dltb

    out, _ = sample
    a, _, meta = lu
    dltb = gpd.read_file(out / "dltb_2023.gpkg", layer="DLTB", engine="pyogrio")
    assert {"DLBM", "DLMC", "TBMJ", "KCMJ", "KCDLBM", "TBDLMJ", "QSXZ", "ZLDWDM", "QSDWDM"} <= set(
        dltb.columns
    )
    assert dltb.crs.to_epsg() == 4544
    np.testing.assert_allclose(dltb["TBDLMJ"], dltb["TBMJ"] - dltb["KCMJ"], atol=0.006)
    dry = dltb["DLBM"] == "0103"
    assert (dltb.loc[dry, "KCMJ"] > 0).all() and (dltb.loc[dry, "KCDLBM"] == "1203").all()
    assert set(dltb["QSXZ"]) <= {"10", "20", "30", "31"}
    assert dltb["ZLDWDM"].str.fullmatch(r"64\d{17}").all()
    waste = dltb["DLBM"].isin(["0404", "1204", "1205", "1206", "1207"])
    assert (waste & (dltb["QSXZ"] == "10")).sum() > 10
    assert (waste & (dltb["QSXZ"] != "10")).sum() > 10
    dltb["code"] = dltb["DLBM"].astype(int)
    dltb["owner"] = np.where(dltb["QSXZ"].isin(["10", "20"]), 1, 2)
    grid = Grid(
        crs=meta["crs"], transform=meta["transform"], width=meta["width"], height=meta["height"]
    )
    c, o = rasterise_dltb(dltb, grid, tmp_path / "c.tif", tmp_path / "o.tif", supersample=3)
    with rasterio.open(c) as ds:
        codes = ds.read(1)
    with rasterio.open(o) as ds:
        own = ds.read(1)
    with rasterio.open(out / "ownership_2023.tif") as ds:
        own_sample = ds.read(1)
    inside = a != 0
    assert (codes[inside] == a[inside]).mean() >= 0.999
    assert (own[inside] == own_sample[inside]).mean() >= 0.999
