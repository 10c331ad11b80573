"""Land-use transitions between two survey years, per zone, and the change raster.

Boundary rule: the same as the inventory (`nxgeo.inventory`) — **coverage-weighted**. The two
canonical rasters are combined block by block into one "pair" raster (from × K + to, K =
n_classes + 1) written to a temporary file, and exactextract measures each pair value's
coverage-weighted area in every zone. Hence, for every zone, the row sums of the matrix equal
the year-A inventory and the column sums the year-B inventory exactly (up to float error).

Class 0 stands for nodata: a pixel with data in year A but nodata in year B appears as
(from, 0), and the reverse as (0, to); pixels that are nodata in both years are left out.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio

from .errors import InputError
from .grid import Grid
from .inventory import area_by_class
from .nodata import CHANGE_NODATA
from .raster_io import cog_output, gtiff_profile, uncompressed, work_windows
from .vector_io import read_vector


def _same_grid(a_path, b_path) -> Grid:
    ga, gb = Grid.from_raster(a_path), Grid.from_raster(b_path)
    if not ga.matches(gb):
        raise InputError(
            f"{a_path} and {b_path} are not on the same grid "
            f"({ga.to_dict()} vs {gb.to_dict()}); prepare both onto the analysis grid"
        )
    return ga


def _valid(block: np.ndarray, nodata) -> np.ndarray:
    if nodata is None:
        return np.ones(block.shape, bool)
    if isinstance(nodata, float) and np.isnan(nodata):
        return ~np.isnan(block)
    return block != nodata


def _pairs(a_path, b_path, block_size: int):
    """Yield (window, a, b, valid_a, valid_b) window by window for two rasters on one grid."""
    grid = _same_grid(a_path, b_path)
    profile = gtiff_profile(grid, "uint16", 0)
    with rasterio.open(a_path) as a_ds, rasterio.open(b_path) as b_ds:
        for win in work_windows(profile, grid.width, grid.height, block_size):
            a = a_ds.read(1, window=win)
            b = b_ds.read(1, window=win)
            yield win, a, b, _valid(a, a_ds.nodata), _valid(b, b_ds.nodata)


def transition_matrix(
    a_path: str | Path,
    b_path: str | Path,
    zones_path_or_gdf: str | Path | gpd.GeoDataFrame,
    id_field: str,
    n_classes: int,
    layer: str | None = None,
    block_size: int = 512,
    tmp_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Transition areas per zone between canonical rasters `a_path` (from) and `b_path` (to).

    Returns long format: zone_id, from_class, to_class, area_ha — non-zero entries only, ordered
    by zone then from/to class. Class ids must be 1..`n_classes` (0 = nodata, see module doc).
    The temporary pair raster is written in `tmp_dir` (default: the system temp folder).
    """
    k = int(n_classes) + 1
    dtype = "uint16" if k * k < 65535 else "uint32"
    pair_nodata = int(np.iinfo(dtype).max)
    grid = _same_grid(a_path, b_path)
    zones = (
        zones_path_or_gdf
        if isinstance(zones_path_or_gdf, gpd.GeoDataFrame)
        else read_vector(zones_path_or_gdf, layer=layer)
    )
    with tempfile.TemporaryDirectory(prefix="nxgeo-transitions-", dir=tmp_dir) as td:
        pair_path = Path(td) / "pairs.tif"
        profile = gtiff_profile(grid, dtype, pair_nodata)
        with rasterio.open(pair_path, "w", **profile) as dst:
            for win, a, b, va, vb in _pairs(a_path, b_path, block_size):
                for arr, v, p in ((a, va, a_path), (b, vb, b_path)):
                    bad = v & ((arr < 0) | (arr > n_classes))
                    if bad.any():
                        raise InputError(
                            f"{p}: class id(s) {sorted(np.unique(arr[bad]).tolist())}"
                            f" outside 1..{n_classes}; expected a canonical raster"
                        )
                pair = np.where(va, a, 0).astype(np.int64) * k + np.where(vb, b, 0)
                pair = np.where(va | vb, pair, pair_nodata).astype(dtype)
                dst.write(pair, 1, window=win)
        long = area_by_class(pair_path, zones, id_field)
    long = long[long["pixel_count"] > 0]
    out = pd.DataFrame(
        {
            "zone_id": long["zone_id"].to_numpy(),
            "from_class": (long["value"] // k).astype(int).to_numpy(),
            "to_class": (long["value"] % k).astype(int).to_numpy(),
            "area_ha": long["area_ha"].to_numpy(),
        }
    )
    return out.reset_index(drop=True)


def change_raster(
    a_path: str | Path,
    b_path: str | Path,
    dst_path: str | Path,
    block_size: int = 512,
) -> Path:
    """Write the change raster: uint16 from×100+to where the class changed, 0 where unchanged,
    65535 where either year is nodata. Class ids must be < 100. Block-wise and atomic; a
    Cloud-Optimised GeoTIFF with overviews."""
    grid = _same_grid(a_path, b_path)
    profile = gtiff_profile(grid, "uint16", CHANGE_NODATA)
    with cog_output(dst_path) as tmp, rasterio.open(tmp, "w", **uncompressed(profile)) as dst:
        for win, a, b, va, vb in _pairs(a_path, b_path, block_size):
            both = va & vb
            for arr, p in ((a, a_path), (b, b_path)):
                bad = both & ((arr < 0) | (arr >= 100))
                if bad.any():
                    raise InputError(
                        f"{p}: class id(s) {sorted(np.unique(arr[bad]).tolist())} "
                        f"do not fit the from*100+to change code (need 0..99)"
                    )
            ai = a.astype(np.int64)
            bi = b.astype(np.int64)
            code = np.where(ai == bi, 0, ai * 100 + bi)
            dst.write(np.where(both, code, CHANGE_NODATA).astype(np.uint16), 1, window=win)
        dst.update_tags(meaning="from*100+to where changed; 0 unchanged; 65535 nodata")
    return Path(dst_path)


def compare_years(
    a_path: str | Path,
    b_path: str | Path,
    vectors_gpkg: str | Path,
    classes_table: str | Path,
    year_a: int,
    year_b: int,
    out_county_csv: str | Path,
    out_reach_csv: str | Path,
    out_matrix_csv: str | Path,
    out_change: str | Path,
    mu_per_ha: float = 15.0,
    block_size: int = 512,
) -> None:
    """Transitions between two survey years per county and per reach (long tables, ha and mu,
    bilingual class labels), the region-wide from x to matrix (ha), and the change raster."""
    from .atomic import write_csv

    classes = pd.read_csv(classes_table)
    labels = classes.set_index("class_id")
    nodata_label = pd.Series({"canonical": "nodata", "name_zh": "无数据", "name_en": "No data"})

    def label(ids, col):
        return [labels.loc[i, col] if i in labels.index else nodata_label[col] for i in ids]

    tables = {}
    for kind, layer in (("county", "counties"), ("reach", "reaches")):
        zones = read_vector(vectors_gpkg, layer)
        t = transition_matrix(a_path, b_path, zones, "id", len(classes), block_size=block_size)
        names = dict(zip(zones["id"].astype(str), zones.get("name", zones["id"]).astype(str)))
        t.insert(0, "zone_kind", kind)
        t.insert(2, "zone_name", [names.get(str(z), "") for z in t["zone_id"]])
        t.insert(1, "year_from", year_a)
        t.insert(2, "year_to", year_b)
        t["from_name"] = label(t["from_class"], "canonical")
        t["from_zh"] = label(t["from_class"], "name_zh")
        t["to_name"] = label(t["to_class"], "canonical")
        t["to_zh"] = label(t["to_class"], "name_zh")
        t["changed"] = t["from_class"] != t["to_class"]
        t["area_mu"] = t["area_ha"] * mu_per_ha
        tables[kind] = t
    write_csv(tables["county"], out_county_csv)
    write_csv(tables["reach"], out_reach_csv)
    region = tables["county"].groupby(["from_name", "to_name"], sort=False)["area_ha"].sum()
    order = list(classes["canonical"]) + ["nodata"]
    matrix = region.unstack(fill_value=0.0).reindex(index=order, columns=order, fill_value=0.0)
    matrix = matrix.loc[(matrix.sum(axis=1) > 0), (matrix.sum(axis=0) > 0)]
    matrix.index.name = f"from_{year_a} \\ to_{year_b} (ha)"
    write_csv(matrix.reset_index(), out_matrix_csv)
    change_raster(a_path, b_path, out_change, block_size=block_size)
