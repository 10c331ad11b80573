"""Validation of a year's survey land use (scope ``landuse:<year>``, nxgeo.validate.scope):
the DLTB polygons (format polygons) or the optional ownership raster (format raster)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .read import load_dltb


def check_landuse_polygons(ctx, year, rel: str, scheme) -> None:
    """Every problem of one year's DLTB layer, reported with file, layer, field and value."""
    item = f"inputs.landuse.files.{year}"
    spec = ctx.cfg["inputs"]["landuse"]["polygons"]
    path = ctx.resolve(rel)
    entry = {"item": item, "kind": "polygons", "path": rel, "layer": spec.get("layer")}
    if scheme is None:  # the scheme's own problem is reported already
        ctx.checked(entry)
        return
    counties = set(ctx.counties) if ctx.counties else None
    gdf, found = load_dltb(path, spec, scheme, counties=counties)
    for msg in found.errors:
        ctx.error(item, path, msg)
    for msg in found.warnings:
        ctx.warning(item, path, msg)
    if gdf is not None:
        entry.update(
            features=len(gdf),
            crs=str(gdf.crs),
            area_ha=float(gdf["area_m2"].sum()) / 1e4,
            encoding=gdf.attrs.get("encoding"),
            layer=gdf.attrs.get("layer"),
        )
        if gdf.crs is not None:
            ctx.check_overlap(item, path, rel, tuple(gdf.total_bounds), gdf.crs, min_cover=0.5)
    ctx.checked(entry)


def check_ownership_raster(ctx, year, rel: str | None) -> None:
    """Format raster: the optional ownership raster of a year (values 0, 1, 2 and nodata);
    absent: a warning that ownership is unknown (0) everywhere."""
    import rasterio

    item = f"inputs.landuse.ownership.{year}"
    if not rel:
        ctx.warning(
            item,
            None,
            f"no ownership raster for {year} (inputs.landuse.ownership): ownership "
            "(权属) is unknown (0) everywhere, so the ownership inventory is empty and "
            "pathways that need state-owned land find none. Give a raster with 1 = "
            "state-owned, 2 = collective, or use format: polygons with the DLTB.",
        )
        return
    path = ctx.resolve(rel)
    if not Path(path).exists():
        ctx.missing_file(
            item, rel, path, "ownership raster (1 state-owned, 2 collective, 0 unknown)"
        )
        return
    try:
        ds = rasterio.open(path)
    except Exception as exc:
        ctx.error(item, path, f"{rel}: is not a raster GDAL can read ({str(exc).splitlines()[0]})")
        return
    with ds:
        entry = {
            "item": item,
            "kind": "raster",
            "path": rel,
            "dtype": ds.dtypes[0],
            "nodata": ds.nodata,
        }
        if not ds.crs:
            ctx.error(
                item,
                path,
                f"{rel}: has no CRS; assign the CRS it is in (gdal_edit.py -a_srs EPSG:4507 {rel})",
            )
        values: set = set()
        for _, win in ds.block_windows(1):
            a = ds.read(1, window=win)
            if ds.nodata is not None:
                a = a[a != ds.nodata]
            values |= set(np.unique(a).tolist())
        bad = sorted(values - {0, 1, 2})
        if bad:
            ctx.error(
                item,
                path,
                f"{rel}: value(s) {bad[:10]} are not ownership codes (1 = "
                "state-owned 国有, 2 = collective 集体, 0 = unknown); recode them or declare "
                "them nodata",
                values=bad[:10],
            )
        entry["values"] = sorted(values)[:10]
        ctx.checked(entry)
