"""Build a tiny but complete, valid input set (the data contract) from scratch, for tests.

``make_valid_inputs(tmp_path) -> (cfg, base_dir)``: 40 x 30 px rasters (5 km pixels) in
EPSG:4507 around Ningxia, two counties (stored in EPSG:4490, as real county layers usually
are), two reaches, every vector layer with a few features, every table, and a config dict
(deep copy of config/config.yaml) whose ``inputs`` point at those files with paths relative to
``base_dir``. Tests mutate the files or the dict to produce one specific mistake each.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import yaml
from affine import Affine
from shapely.geometry import LineString, Point, box

ROOT = Path(__file__).resolve().parents[1]
CRS_GK = "EPSG:4507"  # CGCS2000 / Gauss-Kruger CM 105E
CRS_GEO = "EPSG:4490"  # CGCS2000 geographic
WIDTH, HEIGHT, RES = 40, 30, 5000.0
X0, Y0 = 450_000.0, 4_250_000.0  # top-left corner: x 450 000-650 000, y 4 100 000-4 250 000
TRANSFORM = Affine(RES, 0.0, X0, 0.0, -RES, Y0)
YEARS = [2023, 2024]
COUNTIES = {
    "640105": ("西夏区", box(460_000, 4_110_000, 550_000, 4_240_000)),
    "640122": ("贺兰县", box(550_000, 4_110_000, 640_000, 4_240_000)),
}
REACHES = {
    "weining": box(460_000, 4_110_000, 560_000, 4_240_000),
    "yinchuan": box(540_000, 4_110_000, 640_000, 4_240_000),
}
LANDUSE_CODES = [101, 102, 103, 301, 305, 404, 602, 702, 1101, 1205, 1206]

P = {  # relative paths of every input (relative to base_dir)
    "landuse": "in/landuse_{year}.tif",
    "ownership": "in/ownership_{year}.tif",
    "dem": "in/dem.tif",
    "precipitation": "in/precipitation.tif",
    "counties": "in/vector/counties.geojson",
    "reaches": "in/vector/reaches.gpkg",
    "zones": "in/vector/zones.gpkg",
    "homesteads": "in/vector/homesteads.gpkg",
    "mines": "in/vector/mines.gpkg",
    "water": "in/vector/water.gpkg",
    "infrastructure": "in/vector/infrastructure.gpkg",
    "water_budgets": "in/tables/water_budgets.csv",
    "greening_targets": "in/tables/greening_targets.csv",
    "county_emissions": "in/tables/county_emissions.csv",
    "water_demand": "config/tables/water_demand.csv",
    "carbon_pools": "config/tables/carbon_pools.csv",
    "prices": "config/tables/prices.csv",
    "gep_coefficients": "config/tables/gep_coefficients.csv",
    "unit_costs": "config/tables/unit_costs.csv",
}


def write_tif(path, array, crs=CRS_GK, transform=TRANSFORM, nodata=None, **profile) -> Path:
    """Plain GeoTIFF writer for tests (crs=None / nodata=None write a file without them)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.asarray(array)
    prof = {
        "driver": "GTiff",
        "height": array.shape[-2],
        "width": array.shape[-1],
        "count": 1 if array.ndim == 2 else array.shape[0],
        "dtype": array.dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    prof.update(profile)
    with rasterio.open(path, "w", **prof) as dst:
        if array.ndim == 2:
            dst.write(array, 1)
        else:
            dst.write(array)
    return path


def landuse_array(seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.choice(LANDUSE_CODES, size=(HEIGHT, WIDTH)).astype(np.uint16)
    a[0, :] = 0  # a nodata border row, as outside a survey
    return a


def _gdf(rows: list[dict], crs=CRS_GK) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def write_layers(path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path


def write_csv(path, rows, columns=None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False, encoding="utf-8")
    return path


def zone_layers() -> dict[str, gpd.GeoDataFrame]:
    return {
        "protected_areas": _gdf(
            [
                {
                    "name": "贺兰山",
                    "zone": "core",
                    "geometry": box(470_000, 4_200_000, 500_000, 4_230_000),
                },
                {
                    "name": "贺兰山",
                    "zone": "buffer",
                    "geometry": box(500_000, 4_200_000, 510_000, 4_230_000),
                },
                {
                    "name": "贺兰山",
                    "zone": "experimental",
                    "geometry": box(510_000, 4_200_000, 520_000, 4_230_000),
                },
            ]
        ),
        "ecological_redline": _gdf(
            [
                {"redline_id": "R1", "geometry": box(470_000, 4_150_000, 490_000, 4_170_000)},
                {"redline_id": "R2", "geometry": box(600_000, 4_150_000, 620_000, 4_170_000)},
            ]
        ),
        "basic_farmland": _gdf(
            [
                {"farmland_id": "F1", "geometry": box(560_000, 4_120_000, 580_000, 4_140_000)},
                {"farmland_id": "F2", "geometry": box(580_000, 4_120_000, 600_000, 4_140_000)},
            ]
        ),
        "emigration_areas": _gdf(
            [
                {
                    "area_id": "E1",
                    "name": "迁出区一",
                    "geometry": box(520_000, 4_120_000, 545_000, 4_145_000),
                }
            ]
        ),
        "mining_areas": _gdf(
            [{"name": "贺兰山矿区", "geometry": box(465_000, 4_180_000, 500_000, 4_200_000)}]
        ),
        "sand_areas": _gdf(
            [{"name": "沙区", "geometry": box(600_000, 4_180_000, 635_000, 4_235_000)}]
        ),
    }


def homesteads() -> gpd.GeoDataFrame:
    rows = []
    for i, status in enumerate(["idle", "occupied", "demolished", "idle", "demolished"]):
        x = 521_000 + i * 4_000
        rows.append(
            {
                "parcel_id": f"H{i + 1}",
                "status": status,
                "geometry": box(x, 4_121_000, x + 300, 4_121_300),
            }
        )
    return _gdf(rows)


def mines() -> gpd.GeoDataFrame:
    rows = []
    for i, (status, legacy) in enumerate([("abandoned", 1), ("closed", 0), ("operating", 0)]):
        x = 466_000 + i * 10_000
        rows.append(
            {
                "mine_id": f"M{i + 1}",
                "status": status,
                "legacy": legacy,
                "geometry": box(x, 4_181_000, x + 2_000, 4_183_000),
            }
        )
    return _gdf(rows)


def water_layers() -> dict[str, gpd.GeoDataFrame]:
    return {
        "rivers": _gdf(
            [
                {
                    "river_id": "yellow",
                    "name": "黄河",
                    "geometry": LineString([(555_000, 4_110_000), (560_000, 4_240_000)]),
                }
            ]
        ),
        "canals": _gdf(
            [
                {
                    "canal_id": "C1",
                    "name": "唐徕渠",
                    "geometry": LineString([(540_000, 4_115_000), (545_000, 4_235_000)]),
                },
                {
                    "canal_id": "C2",
                    "name": "汉延渠",
                    "geometry": LineString([(565_000, 4_115_000), (570_000, 4_235_000)]),
                },
            ]
        ),
    }


def infrastructure_layers() -> dict[str, gpd.GeoDataFrame]:
    return {
        "settlements": _gdf(
            [
                {"settlement_id": "S1", "name": "镇北堡", "geometry": Point(480_000, 4_170_000)},
                {"settlement_id": "S2", "name": "习岗", "geometry": Point(590_000, 4_160_000)},
            ]
        ),
        "roads": _gdf(
            [
                {
                    "road_id": "G110",
                    "kind": "national",
                    "geometry": LineString([(460_000, 4_150_000), (640_000, 4_160_000)]),
                },
                {
                    "road_id": "S102",
                    "kind": "provincial",
                    "geometry": LineString([(500_000, 4_110_000), (510_000, 4_240_000)]),
                },
            ]
        ),
    }


def county_rows(value_fn) -> list[dict]:
    return [{"adcode": code, "year": y, **value_fn(code, y)} for code in COUNTIES for y in YEARS]


def make_valid_inputs(tmp_path) -> tuple[dict, Path]:
    base = Path(tmp_path)
    base.mkdir(parents=True, exist_ok=True)
    # scheme and parameter tables: the project's own, copied so tests may change them
    shutil.copytree(ROOT / "config" / "landuse", base / "config" / "landuse", dirs_exist_ok=True)
    shutil.copytree(ROOT / "config" / "tables", base / "config" / "tables", dirs_exist_ok=True)

    for i, y in enumerate(YEARS):
        write_tif(base / P["landuse"].format(year=y), landuse_array(seed=i + 1), nodata=0)
        # ownership (权属): 1 state-owned, 2 collective; nodata 255
        own = np.where(np.arange(WIDTH)[None, :] < WIDTH // 3, 1, 2).repeat(HEIGHT, 0)
        write_tif(base / P["ownership"].format(year=y), own.astype(np.uint8), nodata=255)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    write_tif(base / P["dem"], (1100 + 40 * xx + 10 * yy).astype(np.float32), nodata=-9999.0)
    write_tif(base / P["precipitation"], (180 + 10 * yy + xx).astype(np.float32), nodata=-9999.0)

    counties = _gdf(
        [
            {"adcode": code, "name_zh": name, "geometry": geom}
            for code, (name, geom) in COUNTIES.items()
        ]
    ).to_crs(CRS_GEO)
    (base / P["counties"]).parent.mkdir(parents=True, exist_ok=True)
    counties.to_file(base / P["counties"], driver="GeoJSON", engine="pyogrio")
    write_layers(
        base / P["reaches"],
        {
            "reaches": _gdf(
                [
                    {"reach_id": rid, "name": rid.title(), "geometry": g}
                    for rid, g in REACHES.items()
                ]
            )
        },
    )
    write_layers(base / P["zones"], zone_layers())
    write_layers(base / P["homesteads"], {"homesteads": homesteads()})
    write_layers(base / P["mines"], {"mines": mines()})
    write_layers(base / P["water"], water_layers())
    write_layers(base / P["infrastructure"], infrastructure_layers())

    write_csv(
        base / P["water_budgets"],
        county_rows(
            lambda c, y: {"allocation_m3": 3.0e8, "consumption_m3": 2.5e8, "reserve_m3": 1.0e7}
        ),
    )
    write_csv(base / P["greening_targets"], county_rows(lambda c, y: {"target_ha": 120.5}))
    write_csv(base / P["county_emissions"], county_rows(lambda c, y: {"emission_t_co2": 1.5e6}))

    with open(ROOT / "config" / "config.yaml", encoding="utf-8") as f:
        cfg = copy.deepcopy(yaml.safe_load(f))
    cfg["years"] = list(YEARS)
    cfg["compare"] = [[2023, 2024]]
    cfg["reaches"] = list(REACHES)
    v = cfg["inputs"]["vectors"]
    cfg["inputs"] = {
        "landuse": {
            "scheme": "gbt21010",
            "format": "raster",
            "files": {y: P["landuse"].format(year=y) for y in YEARS},
            "ownership": {y: P["ownership"].format(year=y) for y in YEARS},
            "polygons": cfg["inputs"]["landuse"]["polygons"],
        },
        "rasters": {
            "dem": P["dem"],
            "precipitation": P["precipitation"],
            "fvc": None,
            "soil_k": None,
            "sand_fraction": None,
            "wind_factor": None,
        },
        "vectors": {
            "counties": {"path": P["counties"], "fields": v["counties"]["fields"]},
            "reaches": {"path": P["reaches"], "layer": "reaches", "fields": v["reaches"]["fields"]},
            **{
                k: {"path": P["zones"], "layer": k, "fields": v[k]["fields"]}
                for k in (
                    "protected_areas",
                    "ecological_redline",
                    "basic_farmland",
                    "emigration_areas",
                    "mining_areas",
                    "sand_areas",
                )
            },
            "homesteads": {
                "path": P["homesteads"],
                "layer": "homesteads",
                "fields": v["homesteads"]["fields"],
            },
            "mines": {"path": P["mines"], "layer": "mines", "fields": v["mines"]["fields"]},
            "rivers": {"path": P["water"], "layer": "rivers", "fields": v["rivers"]["fields"]},
            "canals": {"path": P["water"], "layer": "canals", "fields": v["canals"]["fields"]},
            "settlements": {
                "path": P["infrastructure"],
                "layer": "settlements",
                "fields": v["settlements"]["fields"],
            },
            "roads": {
                "path": P["infrastructure"],
                "layer": "roads",
                "fields": v["roads"]["fields"],
            },
            "planned_construction": None,
        },
        "tables": {
            k: P[k]
            for k in (
                "water_budgets",
                "greening_targets",
                "county_emissions",
                "water_demand",
                "carbon_pools",
                "prices",
                "gep_coefficients",
                "unit_costs",
            )
        },
    }
    cfg["landuse"]["classes_table"] = "config/landuse/classes.csv"
    codes = list(COUNTIES)
    for spec in (cfg.get("pathways") or {}).values():
        if isinstance(spec, dict) and "counties" in spec:
            spec["counties"] = codes
    cfg.setdefault("ledgers", {})["greening_trading_group"] = codes
    return cfg, base
