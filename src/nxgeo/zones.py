"""Zone layers of one reach, rasterised on the reach's grid: constraint masks (protected core /
any, ecological red line, permanent basic farmland, irrigation water secured), the county of
every pixel (adcode) and the county water-quota modulus (10^4 m3/km2).

Rule: a pixel is inside a polygon when its centre is (GDAL's default rasterisation), the same
rule as reach clipping. Masks are uint8 (1 inside, 0 outside, 255 outside the reach).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from rasterio.features import rasterize

from .raster_io import write_cog
from .vector_io import list_layers, read_vector

MASKS = ("protected_core", "protected_any", "ecological_redline", "basic_farmland", "water_secured")
ZONE_LAYERS = (*MASKS, "county", "water_quota_modulus")


def _burn(geoms, shape, transform, value=1, dtype="uint8", fill=0) -> np.ndarray:
    geoms = [(g, value) if not isinstance(g, tuple) else g for g in geoms]
    geoms = [(g, v) for g, v in geoms if g is not None and not g.is_empty]
    if not geoms:
        return np.full(shape, fill, dtype=dtype)
    return rasterize(geoms, out_shape=shape, transform=transform, fill=fill, dtype=dtype,
                     all_touched=False)


def zone_arrays(template: str | Path, vectors_gpkg: str | Path, modulus: pd.DataFrame | None,
                canal_buffer_m: float) -> tuple[dict[str, np.ndarray], dict]:
    """All zone layers as arrays on the grid of `template` (a clipped reach raster).

    `modulus`: DataFrame with columns id (adcode) and modulus (10^4 m3/km2), or None.
    """
    with rasterio.open(template) as t:
        shape, transform, crs = (t.height, t.width), t.transform, t.crs
        valid = t.read_masks(1) > 0
    layers = set(list_layers(vectors_gpkg))

    def layer(name):
        return read_vector(vectors_gpkg, name) if name in layers else None

    out: dict[str, np.ndarray] = {}
    pa = layer("protected_areas")
    if pa is not None and "zone" in pa.columns:
        out["protected_core"] = _burn(pa.geometry[pa["zone"].astype(str) == "core"], shape, transform)
    else:
        out["protected_core"] = _burn([], shape, transform)
    out["protected_any"] = _burn([] if pa is None else pa.geometry, shape, transform)
    for name in ("ecological_redline", "basic_farmland"):
        g = layer(name)
        out[name] = _burn([] if g is None else g.geometry, shape, transform)
    canals = layer("canals")
    secured = [] if canals is None else canals.geometry.buffer(canal_buffer_m)
    out["water_secured"] = _burn(secured, shape, transform)
    counties = layer("counties")
    ids = counties["id"].astype(str)
    out["county"] = _burn(list(zip(counties.geometry, ids.astype(np.int64))), shape, transform,
                          dtype="int32", fill=0)
    mod = np.full(shape, np.nan, dtype="float32")
    if modulus is not None:
        values = dict(zip(modulus["id"].astype(str), modulus["modulus"].astype(float)))
        for adcode, v in values.items():
            mod[out["county"] == int(adcode)] = v
    out["water_quota_modulus"] = mod
    for name in MASKS:
        out[name][~valid] = 255
    out["county"][~valid] = 0
    out["water_quota_modulus"][~valid] = np.nan
    return out, {"crs": crs, "transform": transform}


def reach_zone_layers(template: str | Path, vectors_gpkg: str | Path, budgets_csv: str | Path,
                      year: int, outputs: dict[str, str | Path], canal_buffer_m: float = 3000.0,
                      area_crs: str = "EPSG:4507") -> dict[str, Path]:
    """Write the zone layers of one reach and year as COGs (name -> output path)."""
    from .water import water_quota_modulus

    budgets = pd.read_csv(budgets_csv, dtype={"adcode": str}, encoding="utf-8-sig")
    counties = read_vector(vectors_gpkg, "counties")
    mod = water_quota_modulus(budgets, counties, year, id_field="id", area_crs=area_crs)
    mod_df = pd.DataFrame({"id": mod["adcode"].astype(str), "modulus": mod[_modulus_col(mod)]})
    arrays, geo = zone_arrays(template, vectors_gpkg, mod_df, canal_buffer_m)
    written = {}
    for name, path in outputs.items():
        arr = arrays[name]
        nodata = {"county": 0, "water_quota_modulus": -9999.0}.get(name, 255)
        if name == "water_quota_modulus":
            arr = np.where(np.isnan(arr), -9999.0, arr).astype("float32")
        written[name] = write_cog(path, arr, geo["crs"], geo["transform"], nodata=nodata)
    return written


def _modulus_col(df) -> str:
    for c in ("modulus", "water_quota_modulus", "modulus_1e4m3_per_km2"):
        if c in df.columns:
            return c
    raise KeyError(f"no modulus column in {list(df.columns)}")
