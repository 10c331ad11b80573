"""Put every input on the analysis grid: reprojection of rasters and vectors, canonical land use.

All raster work here is block-wise: the output is written window by window (`block_size`
pixels a side, whole 256-pixel tiles), so memory is bounded by one window, never by the size
of the region. Outputs are written to a temporary name and renamed on success; rasters are
Cloud-Optimised GeoTIFFs with internal overviews (`nxgeo.raster_io.cog_output`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.features import geometry_mask
from rasterio.vrt import WarpedVRT
from rasterio.warp import calculate_default_transform
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from .errors import InputError
from .grid import Grid
from .landuse import CANONICAL_NODATA, Scheme
from .raster_io import cog_output, default_nodata, gtiff_profile, uncompressed, work_windows

# Max error of GDAL's approximate coordinate transformer, in source pixels. GDAL's default
# (0.125) interpolates coordinates along each chunk's rows, so results depend on how the grid is
# cut into chunks (nearest picks a different neighbour for ~3 % of pixels). 0 would mean "exact"
# but rasterio's WarpedVRT (1.4) then builds no transformer at all; 1e-9 px is exact in practice.
WARP_TOLERANCE = 1e-9


def warp_scale(src: rasterio.io.DatasetReader, grid: Grid) -> tuple[float, float]:
    """Destination pixels per source pixel, capped at 1 (GDAL's XSCALE/YSCALE warp options).

    Below 1 (the grid is coarser than the source) GDAL widens the bilinear kernel to cover the
    source pixels under a grid cell; at 1 it is plain bilinear interpolation. Computed once
    from the source's pixel size expressed in the grid CRS (GDAL's suggested warp output).
    """
    t, _, _ = calculate_default_transform(
        src.crs, grid.rasterio_crs, src.width, src.height, *src.bounds
    )
    gx, gy = grid.resolution
    return min(1.0, abs(t.a) / gx), min(1.0, abs(t.e) / gy)


def _warped_vrt(src, grid: Grid, nodata, resampling, xscale: float, yscale: float) -> WarpedVRT:
    return WarpedVRT(
        src,
        crs=grid.rasterio_crs,
        transform=grid.transform,
        width=grid.width,
        height=grid.height,
        nodata=nodata,
        resampling=resampling,
        tolerance=WARP_TOLERANCE,
        init_dest_nodata=True,
        XSCALE=repr(xscale),
        YSCALE=repr(yscale),
    )


def _warp_block(task: tuple) -> np.ndarray:
    """One window of the warp (a task of `map_blocks`: runs wherever dask puts it)."""
    src_path, grid_dict, nodata, categorical, xscale, yscale, win = task
    grid = Grid.from_dict(grid_dict)
    resampling = Resampling.nearest if categorical else Resampling.bilinear
    with (
        rasterio.open(src_path) as src,
        _warped_vrt(src, grid, nodata, resampling, xscale, yscale) as vrt,
    ):
        return vrt.read(1, window=Window(*win))


def reproject_to_grid(
    src_path: str | Path,
    dst_path: str | Path,
    grid: Grid,
    categorical: bool,
    block_size: int = 512,
    dst_nodata: float | None = None,
    dask: dict | None = None,
    overviews: bool = False,
) -> Path:
    """Reproject/align band 1 of a raster onto `grid`, block by block (other bands are ignored,
    as validation says).

    - categorical → nearest neighbour (only values present in the input appear), continuous →
      bilinear (source nodata pixels are left out of the interpolation);
    - dtype is kept (int16 land use stays int16); the output is a Cloud-Optimised GeoTIFF with
      internal overviews (`nxgeo.raster_io.cog_output`; `overviews` is kept for callers and
      no longer needed);
    - nodata: `dst_nodata` if given, else the source's nodata, else a dtype default (-9999 for
      floats, the dtype's max for unsigned, min for signed integers); pixels of the grid outside
      the source are nodata;
    - chunk-independent, so block-wise output equals a one-shot warp bit for bit: the
      coordinate transformer is (practically) exact (`WARP_TOLERANCE`, not GDAL's default
      1/8-pixel approximation), and GDAL's resampling scale (XSCALE/YSCALE, which it otherwise
      computes per chunk) is fixed once for the whole grid by `warp_scale`.
    - `dask`: the ``dask`` config (`nxgeo.parallel`): blocks may be warped on local threads,
      processes or a dask.distributed cluster; this process writes them in order, so the
      output bytes do not depend on the scheduler.
    """
    from .parallel import map_blocks, runs_inline

    src_path = Path(src_path)
    if not src_path.exists():
        raise InputError(f"{src_path}: file not found")
    with rasterio.open(src_path) as src:
        if src.crs is None:
            raise InputError(
                f"{src_path}: raster has no CRS; set one (e.g. gdal_edit.py -a_srs "
                f"EPSG:4490) before it can be put on the analysis grid"
            )
        # Band 1 is the data (validation checks band 1 and warns that other bands are ignored).
        dtype = src.dtypes[0]
        nodata = dst_nodata if dst_nodata is not None else src.nodata
        if nodata is None:
            nodata = default_nodata(dtype)
        resampling = Resampling.nearest if categorical else Resampling.bilinear
        profile = gtiff_profile(grid, dtype, nodata)
        xscale, yscale = warp_scale(src, grid)
        windows = work_windows(profile, grid.width, grid.height, block_size)
        with cog_output(dst_path) as tmp, rasterio.open(tmp, "w", **uncompressed(profile)) as dst:
            if runs_inline(dask):
                with _warped_vrt(src, grid, nodata, resampling, xscale, yscale) as vrt:
                    for win in windows:
                        dst.write(vrt.read(1, window=win), 1, window=win)
            else:
                tasks = (
                    (
                        str(src_path),
                        grid.to_dict(),
                        nodata,
                        categorical,
                        xscale,
                        yscale,
                        (win.col_off, win.row_off, win.width, win.height),
                    )
                    for win in windows
                )
                for win, block in zip(windows, map_blocks(_warp_block, tasks, dask)):
                    dst.write(block, 1, window=win)
            dst.update_tags(**src.tags())
            desc = src.descriptions[0]
            if desc:
                dst.set_band_description(1, desc)
    return Path(dst_path)


def reproject_vector(gdf: gpd.GeoDataFrame, crs: Any, name: str = "layer") -> gpd.GeoDataFrame:
    """`gdf` in `crs` (a copy; unchanged when already there). A layer without CRS is an error."""
    if gdf.crs is None:
        raise InputError(
            f"{name}: vector layer has no CRS, so it cannot be placed on the analysis "
            f"grid; assign the CRS the coordinates are in (e.g. EPSG:4490) and retry"
        )
    target = CRS.from_user_input(crs)
    if gdf.crs == target:
        return gdf.copy()
    return gdf.to_crs(target.to_wkt())


def _sand_block(sand: Any, win: Window, transform, shape) -> np.ndarray | None:
    if sand is None:
        return None
    if isinstance(sand, np.ndarray):
        r0, c0 = int(win.row_off), int(win.col_off)
        return sand[r0 : r0 + shape[0], c0 : c0 + shape[1]].astype(bool)
    if isinstance(sand, rasterio.io.DatasetReader):
        block = sand.read(1, window=win)
        valid = np.ones(block.shape, bool) if sand.nodata is None else block != sand.nodata
        return valid & (block != 0)
    # geometries (already in the raster CRS): pixel centre inside → in the sand area
    return ~geometry_mask(
        sand,
        out_shape=shape,
        transform=window_transform(win, transform),
        all_touched=False,
        invert=False,
    )


def landuse_to_canonical_file(
    src: str | Path,
    dst: str | Path,
    scheme: Scheme,
    sand_mask: str | Path | np.ndarray | gpd.GeoDataFrame | None = None,
    block_size: int = 512,
) -> Path:
    """Convert a land-use raster of source codes (already on the grid) to canonical class ids.

    Output: uint8, nodata 0 (`landuse.CANONICAL_NODATA`), same grid as `src`.
    `sand_mask` selects the alternative class of codes with a `canonical_in_sand_area` (CLCD 7
    barren → sandy inside the sand areas). It may be a raster path on the same grid (non-zero,
    non-nodata = sand area), a boolean array of the raster's shape, or a GeoDataFrame of sand
    area polygons (reprojected to the raster CRS; pixel centre inside = sand area).
    Unknown codes are an error naming every unknown code, its pixel count over the whole raster
    and the file; no output is left behind. One pass over the raster.
    """
    src = Path(src)
    with rasterio.open(src) as ds:
        grid = Grid(crs=ds.crs, transform=ds.transform, width=ds.width, height=ds.height)
        nodata = ds.nodata
        sand: Any = None
        sand_ds = None
        if isinstance(sand_mask, np.ndarray):
            if sand_mask.shape != grid.shape:
                raise ValueError(f"sand_mask shape {sand_mask.shape} != raster shape {grid.shape}")
            sand = sand_mask
        elif isinstance(sand_mask, gpd.GeoDataFrame):
            geoms = reproject_vector(sand_mask, ds.crs, name="sand_areas").geometry
            sand = [g for g in geoms if g is not None and not g.is_empty]
            sand = sand or None
        elif sand_mask is not None:
            sand_ds = rasterio.open(sand_mask)
            if not Grid.from_raster(sand_mask).matches(grid):
                sand_ds.close()
                raise InputError(f"{sand_mask}: sand-area raster is not on the grid of {src}")
            sand = sand_ds
        try:
            profile = gtiff_profile(grid, "uint8", CANONICAL_NODATA)
            unknown: dict = {}
            with cog_output(dst) as tmp, rasterio.open(tmp, "w", **uncompressed(profile)) as out:
                for win in work_windows(profile, grid.width, grid.height, block_size):
                    block = ds.read(1, window=win)
                    for code, n in scheme.unknown_codes(block, nodata).items():
                        unknown[code] = unknown.get(code, 0) + n
                    if unknown:  # keep scanning so the counts are complete, write no more
                        continue
                    in_sand = _sand_block(sand, win, grid.transform, block.shape)
                    out.write(
                        scheme.to_canonical(block, nodata=nodata, in_sand_area=in_sand),
                        1,
                        window=win,
                    )
                if unknown:
                    listing = ", ".join(f"{c} ({n} px)" for c, n in sorted(unknown.items()))
                    raise InputError(
                        f"{src}: land-use code(s) not in the {scheme.name} scheme table: "
                        f"{listing}; add them to config/landuse/{scheme.name}.csv or fix the "
                        f"raster"
                    )
                out.update_tags(scheme=scheme.name, nodata_meaning="0 = no data")
        finally:
            if sand_ds is not None:
                sand_ds.close()
    return Path(dst)


# --------------------------------------------------------------------------------------------
# Pipeline steps (one call per Snakemake rule)


def standardise_layer(
    gdf: gpd.GeoDataFrame, fields: dict | None, name: str, item: str | None = None
) -> gpd.GeoDataFrame:
    """Rename the configured fields to their roles (id, name, status, ...) and normalise the
    keys with the normaliser validation uses (`nxgeo.keys.normalize_fields`: county codes,
    coded values such as status and zone). Null and empty geometries are dropped; geometries
    are repaired by `repair_geometries`, which `prepare_vectors` calls *after* reprojection.
    Other attribute columns are kept.
    """
    from .keys import normalize_fields

    fields = fields or {}
    rename = {}
    for role, col in fields.items():
        if col not in gdf.columns:
            raise InputError(
                f"{name}: field {col!r} (configured as {role}) not found; "
                f"fields present: {', '.join(map(str, gdf.columns))}"
            )
        if role != col:
            rename[col] = role
    clash = [r for r in rename.values() if r in gdf.columns and r not in rename]
    out = gdf.drop(columns=clash).rename(columns=rename)
    out = out[~(out.geometry.isna() | out.geometry.is_empty)].copy()
    out = normalize_fields(out, item or "", name, fields)
    if "id" in out.columns:
        out["id"] = out["id"].astype(str)
    return out


def prepare_vectors(vectors_cfg: dict, crs: str, out_gpkg: str | Path) -> Path:
    """Every configured vector layer, fields standardised and keys normalised, in the grid
    CRS, geometries repaired after reprojection, in one GeoPackage (layer name = contract
    item, e.g. `counties`, `homesteads`)."""
    from .validate.contract import geometry
    from .vector_io import read_vector, repair_geometries, write_layers

    layers = {}
    for item, spec in vectors_cfg.items():
        if not spec:
            continue
        name = f"{spec['path']} ({item})"
        gdf = read_vector(spec["path"], spec.get("layer"))
        gdf = standardise_layer(gdf, spec.get("fields"), name, item=item)
        gdf = reproject_vector(gdf, crs, name=name)
        layers[item] = repair_geometries(gdf, geometry(item), name)
    return write_layers(out_gpkg, layers)


def define_grid(counties_cfg: dict, grid_cfg: dict, grid_json: str | Path) -> Grid:
    """The analysis grid from the counties' extent (grid.crs, grid.resolution), written to
    `grid_json`; a grid of more than grid.max_pixels pixels is refused (as validation does)."""
    from .atomic import write_json
    from .grid import grid_for_region
    from .vector_io import read_vector

    counties = read_vector(counties_cfg["path"], counties_cfg.get("layer"))
    grid = grid_for_region(
        counties,
        crs=grid_cfg["crs"],
        resolution=float(grid_cfg["resolution"]),
        max_pixels=int(grid_cfg["max_pixels"]),
    )
    write_json(grid.to_dict(), grid_json)
    return grid


def prepare_raster(
    src: str | Path,
    grid_json: str | Path,
    out: str | Path,
    block_size: int = 512,
    dask: dict | None = None,
    categorical: bool = False,
) -> Path:
    """One raster onto the grid of `grid_json` (dtype kept): bilinear for a continuous one,
    nearest neighbour for a `categorical` one (the class rasters of the department's own
    双评价, ``inputs.rasters.official_*``)."""
    import json

    grid = Grid.from_dict(json.loads(Path(grid_json).read_text(encoding="utf-8")))
    return reproject_to_grid(
        src, out, grid, categorical=categorical, block_size=block_size, dask=dask, overviews=True
    )


def prepare_landuse(
    src: str | Path,
    grid_json: str | Path,
    scheme_name: str,
    classes_table: str | Path,
    vectors_gpkg: str | Path,
    out_codes: str | Path,
    out_canonical: str | Path,
    block_size: int = 512,
    dask: dict | None = None,
    out_ownership: str | Path | None = None,
    fmt: str = "raster",
    ownership_src: str | Path | None = None,
    supersample: int = 5,
) -> None:
    """One year's land use on the grid: source codes and canonical class ids, and the
    ownership raster (`out_ownership`: uint8, 1 state-owned, 2 collective, 0 unknown,
    nodata 255 outside the land use).

    - ``fmt="raster"``: `src` is the land-use raster (nearest neighbour onto the grid);
      `ownership_src` an optional ownership raster (nearest; its nodata -> 0 unknown), absent:
      every land-use cell 0 (unknown);
    - ``fmt="polygons"``: `src` is the prepared DLTB (`prepare_dltb`), rasterised by the
      largest share of each cell (`nxgeo.survey.rasterise`), codes and ownership alike.
    `dask`: see `reproject_to_grid`."""
    import json

    from .landuse import load_scheme
    from .vector_io import read_vector

    grid = Grid.from_dict(json.loads(Path(grid_json).read_text(encoding="utf-8")))
    scheme = load_scheme(scheme_name, Path(classes_table).parent, classes_table)
    owner_tmp = None
    if fmt == "polygons":
        from .survey.rasterise import rasterise_dltb

        owner_tmp = Path(out_codes).with_name(Path(out_codes).stem + ".owner-from-dltb.tif")
        rasterise_dltb(
            read_vector(src, "dltb"),
            grid,
            out_codes,
            owner_tmp,
            supersample=supersample,
            block_size=block_size,
        )
    else:
        reproject_to_grid(src, out_codes, grid, categorical=True, block_size=block_size, dask=dask)
    sand = (
        read_vector(vectors_gpkg, "sand_areas") if "sand_areas" in _layers(vectors_gpkg) else None
    )
    try:
        landuse_to_canonical_file(
            out_codes, out_canonical, scheme, sand_mask=sand, block_size=block_size
        )
    except InputError as exc:
        Path(out_codes).unlink(missing_ok=True)
        raise InputError(f"{src}: {exc}") from exc
    if out_ownership is not None:
        ownership_to_grid(
            out_canonical,
            out_ownership,
            owner_tmp or ownership_src,
            block_size=block_size,
            on_grid=owner_tmp is not None,
        )
    if owner_tmp is not None:
        owner_tmp.unlink(missing_ok=True)


def ownership_to_grid(
    canonical: str | Path,
    dst: str | Path,
    src: str | Path | None,
    block_size: int = 512,
    on_grid: bool = False,
) -> Path:
    """The ownership raster on the grid of `canonical` (uint8: 1 state-owned 国有, 2 collective
    集体, 0 unknown; 255 = nodata wherever the land use is nodata). `src`: an ownership raster
    (any grid, nearest neighbour; its nodata and cells outside it -> 0 unknown) or None (all
    0). A value other than 0, 1, 2 is an error naming it and the file."""
    from .survey.read import OWNER_NODATA

    with rasterio.open(canonical) as lu:
        grid = Grid(crs=lu.crs, transform=lu.transform, width=lu.width, height=lu.height)
        profile = gtiff_profile(grid, "uint8", OWNER_NODATA)
        stack = []
        vrt = None
        if src is not None:
            s = rasterio.open(src)
            stack.append(s)
            if on_grid:
                vrt = s
            else:
                vrt = _warped_vrt(
                    s,
                    grid,
                    s.nodata if s.nodata is not None else OWNER_NODATA,
                    Resampling.nearest,
                    1.0,
                    1.0,
                )
                stack.append(vrt)
        try:
            with cog_output(dst) as tmp, rasterio.open(tmp, "w", **uncompressed(profile)) as out:
                for win in work_windows(profile, grid.width, grid.height, block_size):
                    valid = lu.read(1, window=win) != CANONICAL_NODATA
                    if vrt is None:
                        own = np.zeros(valid.shape, np.int64)
                    else:
                        own = vrt.read(1, window=win).astype(np.int64)
                        nd = vrt.nodata if vrt.nodata is not None else OWNER_NODATA
                        own[own == nd] = 0
                        bad = sorted(set(np.unique(own[valid]).tolist()) - {0, 1, 2})
                        if bad:
                            raise InputError(
                                f"{src}: ownership value(s) {bad} are not 1 (state-"
                                f"owned), 2 (collective) or 0 (unknown)"
                            )
                    out.write(np.where(valid, own, OWNER_NODATA).astype(np.uint8), 1, window=win)
                out.update_tags(
                    values="1 = state-owned 国有, 2 = collective 集体, 0 = unknown 未知",
                    source=str(src)
                    if src is not None and not on_grid
                    else ("DLTB QSXZ" if on_grid else "none: all unknown"),
                )
        finally:
            for d in reversed(stack):
                d.close()
    return Path(dst)


def prepare_dltb(
    src: str | Path,
    spec: dict,
    scheme_name: str,
    classes_table: str | Path,
    vectors_gpkg: str | Path,
    grid_crs: str,
    out_gpkg: str | Path,
) -> Path:
    """One year's DLTB read and checked (`nxgeo.survey.read`: standard fields, areas,
    ownership, county), in the grid CRS, as layer `dltb` of `out_gpkg` (what the
    rasterisation and the polygon inventory read)."""
    from .keys import normalize_adcode
    from .landuse import load_scheme
    from .survey.read import read_dltb
    from .vector_io import read_vector, write_layers

    scheme = load_scheme(scheme_name, Path(classes_table).parent, classes_table)
    counties = read_vector(vectors_gpkg, "counties")
    codes = set(normalize_adcode(counties["id"], "counties: id").astype(str))
    gdf = read_dltb(src, spec, scheme, counties=codes)
    gdf = reproject_vector(gdf, grid_crs, name=str(src))
    gdf.insert(0, "fid_src", np.arange(1, len(gdf) + 1))
    return write_layers(out_gpkg, {"dltb": gdf})


def _layers(path) -> list[str]:
    from .vector_io import list_layers

    return list_layers(path)
