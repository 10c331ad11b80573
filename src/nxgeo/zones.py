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

from .keys import VOCABULARY, adcode_ints, normalize_status
from .vector_io import list_layers, read_vector

MASKS = ("protected_core", "protected_any", "ecological_redline", "basic_farmland", "water_secured")
ZONE_LAYERS = (*MASKS, "county", "water_quota_modulus")


def _burn(geoms, shape, transform, value=1, dtype="uint8", fill=0) -> np.ndarray:
    geoms = [(g, value) if not isinstance(g, tuple) else g for g in geoms]
    geoms = [(g, v) for g, v in geoms if g is not None and not g.is_empty]
    if not geoms:
        return np.full(shape, fill, dtype=dtype)
    return rasterize(
        geoms, out_shape=shape, transform=transform, fill=fill, dtype=dtype, all_touched=False
    )


def _zone_geoms(vectors_gpkg: str | Path, canal_buffer_m: float) -> dict:
    """The geometries each zone layer burns (read and buffered once per reach)."""
    layers = set(list_layers(vectors_gpkg))

    def layer(name):
        return read_vector(vectors_gpkg, name) if name in layers else None

    g: dict = {}
    pa = layer("protected_areas")
    if pa is not None and "zone" in pa.columns:
        zone = normalize_status(
            pa["zone"],
            VOCABULARY[("protected_areas", "zone")],
            f"{vectors_gpkg} (layer 'protected_areas'): field zone",
        )
        g["protected_core"] = list(pa.geometry[(zone == "core").to_numpy()])
    else:
        g["protected_core"] = []
    g["protected_any"] = [] if pa is None else list(pa.geometry)
    for name in ("ecological_redline", "basic_farmland"):
        x = layer(name)
        g[name] = [] if x is None else list(x.geometry)
    canals = layer("canals")
    g["water_secured"] = [] if canals is None else list(canals.geometry.buffer(canal_buffer_m))
    counties = layer("counties")
    ids = adcode_ints(counties["id"], f"{vectors_gpkg} (layer 'counties'): field id")
    g["county"] = list(zip(counties.geometry, ids.tolist()))
    return g


def _zone_block(
    geoms: dict, shape, transform, valid: np.ndarray, modulus: tuple[np.ndarray, np.ndarray] | None
) -> dict[str, np.ndarray]:
    """Every zone layer on one window (`transform` of the window, `valid` its reach mask)."""
    out: dict[str, np.ndarray] = {}
    for name in MASKS:
        out[name] = _burn(geoms[name], shape, transform)
    out["county"] = _burn(geoms["county"], shape, transform, dtype="int32", fill=0)
    mod = np.full(shape, np.nan, dtype="float32")
    if modulus is not None and modulus[0].size:
        codes, values = modulus  # codes sorted ascending
        idx = np.searchsorted(codes, out["county"])
        idx = np.minimum(idx, codes.size - 1)
        hit = codes[idx] == out["county"]
        mod[hit] = values[idx[hit]]
    out["water_quota_modulus"] = mod
    for name in MASKS:
        out[name][~valid] = 255
    out["county"][~valid] = 0
    out["water_quota_modulus"][~valid] = np.nan
    return out


def _modulus_lookup(modulus: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray] | None:
    if modulus is None:
        return None
    ids = adcode_ints(modulus["id"], "water-quota modulus: county codes")
    values = dict(zip(ids.tolist(), modulus["modulus"].astype(float)))
    codes = np.array(sorted(values), dtype=np.int64)
    vals = np.array([values[c] for c in codes.tolist()], dtype=np.float32)
    return codes, vals


#: cells per strip of `reach_zone_layers`
STRIP_CELLS = 1 << 20


def reach_zone_layers(
    template: str | Path,
    vectors_gpkg: str | Path,
    budgets_csv: str | Path,
    year: int,
    outputs: dict[str, str | Path],
    canal_buffer_m: float = 3000.0,
    area_crs: str = "EPSG:4507",
) -> dict[str, Path]:
    """Write the zone layers of one reach and year as COGs (name -> output path), strip by
    strip (memory bounded by the strip, not by the reach)."""
    from rasterio.windows import Window
    from rasterio.windows import transform as window_transform

    from .raster_io import CogWriters
    from .water import water_quota_modulus

    budgets = pd.read_csv(budgets_csv, dtype={"adcode": str}, encoding="utf-8-sig")
    counties = read_vector(vectors_gpkg, "counties")
    mod = water_quota_modulus(budgets, counties, year, id_field="id", area_crs=area_crs)
    mod_df = pd.DataFrame({"id": mod["adcode"].astype(str), "modulus": mod[_modulus_col(mod)]})
    lookup = _modulus_lookup(mod_df)
    geoms = _zone_geoms(vectors_gpkg, canal_buffer_m)
    nodata = {
        name: {"county": 0, "water_quota_modulus": -9999.0}.get(name, 255) for name in outputs
    }
    dtypes = {
        name: {"county": "int32", "water_quota_modulus": "float32"}.get(name, "uint8")
        for name in outputs
    }
    with rasterio.open(template) as t:
        h, w, transform, crs = t.height, t.width, t.transform, t.crs
        rows = max(1, STRIP_CELLS // max(1, w))
        if h >= 256 and w >= 256:
            rows = max(256, rows // 256 * 256)
        with CogWriters(outputs, (h, w), crs, transform, dtypes, nodata) as out:
            for r0 in range(0, h, rows):
                win = Window(0, r0, w, min(rows, h - r0))
                valid = t.read_masks(1, window=win) > 0
                arrays = _zone_block(
                    geoms, valid.shape, window_transform(win, transform), valid, lookup
                )
                for name in outputs:
                    arr = arrays[name]
                    if name == "water_quota_modulus":
                        arr = np.where(np.isnan(arr), -9999.0, arr).astype("float32")
                    out.write(name, arr, win)
    return {name: Path(p) for name, p in outputs.items()}


def _modulus_col(df) -> str:
    for c in ("modulus", "water_quota_modulus", "modulus_1e4m3_per_km2"):
        if c in df.columns:
            return c
    raise KeyError(f"no modulus column in {list(df.columns)}")
