"""Validation of the raster inputs: land use per year, DEM, precipitation, optional rasters.

Rasters are read in row strips (whole block rows), so a 30 m region never sits in memory at once.
"""

from __future__ import annotations

import contextlib
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .contract import RASTER
from .contract import item as contract_item
from .core import Context, crs_label, suggest_crs, to_pyproj
from .report import fmt_bounds, fmt_int, fmt_num, plural

STRIP_PIXELS = 1 << 22  # ~4 M pixels per strip read


def iter_strips(ds) -> Iterator:
    """Row-strip windows covering the raster, each a whole number of block rows."""
    from rasterio.windows import Window

    block_h = max(1, int(ds.block_shapes[0][0]))
    rows = max(block_h, (STRIP_PIXELS // max(1, ds.width)) // block_h * block_h)
    for r0 in range(0, ds.height, rows):
        yield Window(0, r0, ds.width, min(rows, ds.height - r0))


def _valid_values(ds, window) -> np.ndarray:
    a = ds.read(1, window=window, masked=True)
    v = a.compressed() if np.ma.isMaskedArray(a) else np.asarray(a).ravel()
    if v.dtype.kind == "f":
        v = v[np.isfinite(v)]
    return v


def count_codes(ds) -> Counter:
    """{value: pixel count} of the valid (non-nodata) pixels, block strip by block strip."""
    counts: Counter = Counter()
    for win in iter_strips(ds):
        v = _valid_values(ds, win)
        if v.size == 0:
            continue
        if v.dtype.kind in "ui" and int(v.min()) >= 0 and int(v.max()) < (1 << 20):
            bc = np.bincount(v.astype(np.int64, copy=False))
            nz = np.flatnonzero(bc)
            counts.update(dict(zip(nz.tolist(), bc[nz].tolist())))
        else:
            vals, c = np.unique(v, return_counts=True)
            counts.update(dict(zip(vals.tolist(), c.tolist())))
    return counts


def value_stats(ds) -> dict:
    vmin, vmax, n = np.inf, -np.inf, 0
    for win in iter_strips(ds):
        v = _valid_values(ds, win)
        if v.size:
            vmin, vmax, n = min(vmin, float(v.min())), max(vmax, float(v.max())), n + int(v.size)
    return {"min": vmin if n else None, "max": vmax if n else None, "valid_pixels": n}


EARTH_RADIUS_M = 6_371_008.8
SAMPLE_VALUES = 1_000_000  # values kept (evenly spaced) for the median / percentiles


def _row_area_ha(ds, win) -> np.ndarray:
    """Area of one pixel of every row of `win` in hectares (per latitude when geographic)."""
    t = ds.transform
    px = abs(t.a * t.e - t.b * t.d)
    rows = int(win.height)
    c = to_pyproj(ds.crs)
    if c is not None and c.is_geographic:
        y = t.f + t.e * (np.arange(rows) + float(win.row_off) + 0.5)
        return px * (np.pi / 180.0) ** 2 * EARTH_RADIUS_M**2 * np.cos(np.radians(y)) / 1e4
    unit = 1.0
    if c is not None and c.axis_info:
        unit = float(c.axis_info[0].unit_conversion_factor or 1.0)
    return np.full(rows, px * unit * unit / 1e4)


def region_scan(ds, outline, keep_values: bool = False) -> dict:
    """One block-wise pass over band 1 inside the region `outline` (a geometry in the raster's
    CRS; a pixel is inside when its centre is, the rule of the whole pipeline).

    Returns inside_px (pixels inside the region), nodata_px / nodata_ha (nodata or NaN pixels
    inside it), nodata_bounds (bounds of those pixels in the raster CRS, or None) and, with
    `keep_values`, `values`: an evenly spaced sample (at most ~`SAMPLE_VALUES`) of the valid
    values inside the region, for medians and percentiles. Memory: one strip.
    """
    from rasterio.features import geometry_mask
    from rasterio.windows import bounds as window_bounds
    from rasterio.windows import transform as window_transform
    from shapely.geometry import box

    stride = max(1, (ds.width * ds.height) // SAMPLE_VALUES)
    inside_px = nodata_px = 0
    nodata_ha = 0.0
    rmin = cmin = None
    rmax = cmax = -1
    sample = []
    seen = 0
    for win in iter_strips(ds):
        if not outline.intersects(box(*window_bounds(win, ds.transform))):
            continue
        inside = geometry_mask(
            [outline],
            out_shape=(int(win.height), int(win.width)),
            transform=window_transform(win, ds.transform),
            invert=True,
        )
        if not inside.any():
            continue
        a = ds.read(1, window=win, masked=True)
        invalid = np.ma.getmaskarray(a)
        data = np.ma.getdata(a)
        if data.dtype.kind == "f":
            invalid = invalid | np.isnan(data)
        gap = invalid & inside
        inside_px += int(inside.sum())
        if gap.any():
            n_row = gap.sum(axis=1)
            nodata_px += int(n_row.sum())
            nodata_ha += float(n_row @ _row_area_ha(ds, win))
            rr, cc = np.nonzero(gap)
            r0, c0 = int(win.row_off), int(win.col_off)
            rmin = r0 + int(rr.min()) if rmin is None else min(rmin, r0 + int(rr.min()))
            cmin = c0 + int(cc.min()) if cmin is None else min(cmin, c0 + int(cc.min()))
            rmax, cmax = max(rmax, r0 + int(rr.max())), max(cmax, c0 + int(cc.max()))
        if keep_values:
            v = data[inside & ~invalid]
            if v.size:
                # every stride-th value counted across strips: deterministic, evenly spaced
                first = (-seen) % stride
                sample.append(v[first::stride].astype("float64"))
                seen += v.size
    out: dict[str, Any] = {
        "inside_px": inside_px,
        "nodata_px": nodata_px,
        "nodata_ha": nodata_ha,
        "nodata_bounds": None,
    }
    if rmin is not None:
        t = ds.transform
        xs = (t.c + t.a * cmin, t.c + t.a * (cmax + 1))
        ys = (t.f + t.e * rmin, t.f + t.e * (rmax + 1))
        out["nodata_bounds"] = (min(xs), min(ys), max(xs), max(ys))
    if keep_values:
        out["values"] = np.concatenate(sample) if sample else np.array([], "float64")
    return out


def _region_outline(ctx: Context, ds):
    if ctx.region is None or not ds.crs:
        return None
    got = ctx.region.in_crs(ds.crs)
    return None if got is None else got[1]


def check_nodata_inside(ctx: Context, item: str, rel: str, path, what: str, scan: dict) -> None:
    """Warn when nodata pixels lie inside the region (cloud gaps, voids), with their area."""
    n = scan["nodata_px"]
    if not n or not scan["inside_px"]:
        return
    share = n / scan["inside_px"]
    ctx.warning(
        item,
        path,
        f"{rel}: {fmt_int(n)} nodata pixel(s) inside the region ({scan['nodata_ha']:,.1f} "
        f"ha, {share:.2%} of the region's pixels; within bounds "
        f"{fmt_bounds(scan['nodata_bounds'])} in the file's CRS): there is no {what} "
        "there, so those areas get no result (parcels and zones over them are reported "
        "without data). Fill the gaps (another source or year; gdal_fillnodata.py for small "
        "voids) if they should be analysed.",
        nodata_pixels=n,
        nodata_ha=scan["nodata_ha"],
        share=share,
        bounds=scan["nodata_bounds"],
    )


def check_crs_datum(ctx: Context, item: str, path, label: str, crs) -> None:
    """Warn when a CRS defines no datum (only an ellipsoid), e.g. a .prj with D_unknown."""
    c = to_pyproj(crs)
    if c is None:
        return
    datum = None
    try:
        datum = c.datum
    except Exception:
        datum = None
    name = getattr(datum, "name", "") or ""
    if datum is not None and "unknown" not in name.lower() and name.strip():
        return
    lab = crs_label(crs) or c.name
    if lab.lower() == "unknown":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lab = (c.to_proj4() or lab)[:160]
    ctx.warning(
        item,
        path,
        f"{label}: its CRS ({lab}) defines no datum"
        f"{f' (only {name!r})' if name else ''}, so no datum shift can be applied: if "
        "the data are in Beijing 1954 or Xian 1980 rather than CGCS2000/WGS 84, positions "
        "may be off by up to ~100 m. Assign the complete CRS (e.g. gdal_edit.py -a_srs "
        "EPSG:4507 for rasters, ogr2ogr -a_srs EPSG:4507 for vectors; QGIS: Set CRS).",
        datum=name or None,
    )


FEET_WORDS = {"ft", "foot", "feet", "us-ft", "ft_us", "us survey foot", "international foot"}
FT = 0.3048
# Ningxia's elevations (Yellow River plain ~1,100 m, Helan Mountains 3,556 m)
DEM_RANGE_M = (1000.0, 3600.0)
PRECIP_TENTHS_MEDIAN = 2000.0  # mm/yr; Ningxia: ~150-700 mm/yr, the wettest of China ~2,000


def _unit_label(ds) -> str:
    units = (ds.units[0] if ds.units else None) or ""
    if not units:
        for k, v in {**ds.tags(), **ds.tags(1)}.items():
            if str(k).lower() in ("units", "unit", "unittype", "unit_type"):
                units = str(v)
                break
    return units.strip()


def check_units(ctx: Context, name: str, item: str, rel: str, path, ds, values: np.ndarray) -> None:
    """DEM in feet, precipitation in tenths of a millimetre: errors that say what to do."""
    if values.size == 0:
        return
    med = float(np.median(values))
    p1, p99 = (float(v) for v in np.percentile(values, [1, 99]))
    units = _unit_label(ds)
    if name == "dem":
        lo, hi = DEM_RANGE_M
        feet_label = units.lower() in FEET_WORDS
        feet_values = med > hi and lo <= med * FT <= hi
        convert = (
            f'convert it to metres (gdal_calc.py -A {rel} --calc="A*0.3048" '
            "--outfile dem_m.tif) and point inputs.rasters.dem to the result"
        )
        if feet_values:
            ctx.error(
                item,
                path,
                f"{rel}: the elevations look like feet, not metres: median {med:,.0f} inside "
                f"the region (1st–99th percentile {p1:,.0f}–{p99:,.0f}), while Ningxia lies "
                f"at about {lo:,.0f}–{hi:,.0f} m (×0.3048 gives {p1 * FT:,.0f}–"
                f"{p99 * FT:,.0f} m){f'; the band unit is {units!r}' if units else ''}. "
                f"Slopes and elevation limits would be wrong: {convert}.",
                median=med,
                unit=units or None,
            )
        elif feet_label and not lo <= med <= hi:
            ctx.error(
                item,
                path,
                f"{rel}: the band unit is {units!r} (feet) and the median elevation inside "
                f"the region is {med:,.0f}, not a Ningxia elevation in metres ({lo:,.0f}–"
                f"{hi:,.0f} m): {convert}.",
                median=med,
                unit=units,
            )
        elif feet_label:
            ctx.warning(
                item,
                path,
                f"{rel}: the band unit is {units!r} (feet) but the values (median "
                f"{med:,.0f}) look like metres, so they are used as metres. If they are "
                f"feet, {convert}; if they are metres, correct the unit label.",
                median=med,
                unit=units,
            )
    elif name == "precipitation" and med > PRECIP_TENTHS_MEDIAN:
        ctx.error(
            item,
            path,
            f"{rel}: the median annual precipitation inside the region is {med:,.0f} mm "
            f"(1st–99th percentile {p1:,.0f}–{p99:,.0f}), which looks like tenths of a "
            "millimetre (0.1 mm units, as many CMA grids store it): Ningxia receives about "
            "150–700 mm/yr. Divide by 10 (gdal_calc.py -A "
            f'{rel} --calc="A/10" --outfile precipitation_mm.tif) and point '
            "inputs.rasters.precipitation to the result.",
            median=med,
        )


def load_scheme_for(ctx: Context):
    """(scheme, scheme csv label, {other scheme name: code set}) or (None, label, {})."""
    from ..landuse import SCHEMES, load_scheme

    name = ctx.cfg["inputs"]["landuse"].get("scheme")
    classes_rel = (ctx.cfg.get("landuse") or {}).get(
        "classes_table"
    ) or "config/landuse/classes.csv"
    classes_path = ctx.resolve(classes_rel)
    landuse_dir = classes_path.parent
    label = str(Path(classes_rel).parent / f"{name}.csv")
    if name not in SCHEMES:
        return None, label, {}  # already reported as a config problem
    if not (landuse_dir / f"{name}.csv").exists():
        ctx.error(
            "inputs.landuse.scheme",
            landuse_dir / f"{name}.csv",
            f"{label}: the table of land-use scheme {name!r} was not found (it is looked for "
            "beside landuse.classes_table); restore it or fix landuse.classes_table.",
        )
        return None, label, {}
    if not classes_path.exists():
        ctx.missing_file(
            "landuse.classes_table",
            classes_rel,
            classes_path,
            "table of canonical land-use classes (classes.csv)",
        )
        return None, label, {}
    try:
        scheme = load_scheme(name, landuse_dir, classes_table=classes_path)
    except Exception as exc:
        ctx.error(
            "inputs.landuse.scheme",
            landuse_dir / f"{name}.csv",
            f"{label}: the land-use scheme table could not be loaded ({exc}); fix the table.",
        )
        return None, label, {}
    others = {}
    for other in SCHEMES:  # only for the hint "these codes are scheme X"
        if other != name and (landuse_dir / f"{other}.csv").exists():
            with contextlib.suppress(Exception):
                others[other] = set(load_scheme(other, landuse_dir, classes_path).codes.tolist())
    return scheme, label, others


def _open(ctx: Context, item: str, rel: str, what: str):
    """Open a raster or report why not. Returns (dataset | None, resolved path)."""
    import rasterio

    path = ctx.resolve(rel)
    if not path.exists():
        ctx.missing_file(item, rel, path, what)
        return None, path
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = rasterio.open(path)
    except Exception as exc:
        reason = str(exc).split("\n")[0]
        ctx.error(
            item,
            path,
            f"{rel}: is not a raster GDAL can read ({reason}); {item} must be a GeoTIFF (or "
            f"another GDAL raster format) holding the {what}. Check the path, or re-export "
            "the file as GeoTIFF.",
        )
        return None, path
    return ds, path


def _georef(ctx: Context, item: str, rel: str, path, ds) -> bool:
    """CRS and geotransform present. Returns True when the raster can be placed on the map."""
    from affine import Affine

    ok = True
    if ds.transform == Affine.identity() and not ds.gcps[0]:
        ctx.error(
            item,
            path,
            f"{rel}: has no georeferencing (no geotransform: pixel coordinates only); "
            "export it from your GIS as a georeferenced GeoTIFF.",
        )
        return False
    if not ds.crs:
        hint = suggest_crs(ds.bounds)
        ctx.error(
            item,
            path,
            f"{rel}: has no CRS (no .prj/GeoKeys); assign CGCS2000, e.g. gdal_edit.py -a_srs "
            f"EPSG:4490 {rel} for longitude/latitude or -a_srs EPSG:4507 for Gauss-Kruger CM "
            f"105E metres (its coordinates {fmt_bounds(ds.bounds)} suggest {hint}).",
            bounds=tuple(ds.bounds),
            suggested_crs=hint,
        )
        ok = False
    return ok


def _nodata_declared(ds) -> bool:
    from rasterio.enums import MaskFlags

    if ds.nodata is not None:
        return True
    flags = ds.mask_flag_enums[0] if ds.mask_flag_enums else ()
    return MaskFlags.all_valid not in flags


def _entry(item: str, rel: str, ds) -> dict:
    return {
        "item": item,
        "kind": "raster",
        "path": rel,
        "crs": crs_label(ds.crs) if ds.crs else None,
        "width": ds.width,
        "height": ds.height,
        "bands": ds.count,
        "resolution": [abs(ds.res[0]), abs(ds.res[1])],
        "dtype": ds.dtypes[0],
        "nodata": ds.nodata,
        "bounds": list(ds.bounds),
    }


def _common(ctx: Context, item: str, rel: str, path, ds, min_cover=0.98) -> dict:
    entry = _entry(item, rel, ds)
    if ds.count > 1:
        ignored = "band 2 is" if ds.count == 2 else f"bands 2–{ds.count} are"
        ctx.warning(
            item,
            path,
            f"{rel}: has {ds.count} bands; band 1 is checked here and used by "
            f"every step ({ignored} ignored). If the data are in another "
            f"band, extract it (gdal_translate -b N {rel} out.tif) and point `{item}` to "
            "the result.",
            bands=ds.count,
        )
    if _georef(ctx, item, rel, path, ds):
        check_crs_datum(ctx, item, path, rel, ds.crs)
        ctx.check_overlap(item, path, rel, tuple(ds.bounds), ds.crs, min_cover=min_cover)
    return entry


def check_landuse(ctx: Context, year, rel: str, scheme, scheme_label: str, others: dict) -> None:
    item = f"inputs.landuse.files.{year}"
    ds, path = _open(ctx, item, rel, f"land-use map of {year}")
    if ds is None:
        ctx.checked({"item": item, "kind": "raster", "path": rel})
        return
    with ds:
        entry = _common(ctx, item, rel, path, ds)
        nodata_ok = _nodata_declared(ds)
        if not nodata_ok:
            ctx.error(
                item,
                path,
                f"{rel}: no nodata value is declared, so pixels outside the survey would be read "
                f"as land-use codes; declare it, e.g. gdal_edit.py -a_nodata 0 {rel} (use the "
                "value your map has outside the region).",
            )
        dtype = np.dtype(ds.dtypes[0])
        if dtype.kind not in "ui":
            ctx.error(
                item,
                path,
                f"{rel}: has data type {dtype.name}, but land use must be integer class codes "
                f"(floating-point land use is not accepted); convert it, e.g. gdal_translate "
                f"-ot UInt16 -a_nodata 0 {rel} landuse_{year}_int.tif, and check the codes.",
                dtype=dtype.name,
            )
            ctx.checked(entry)
            return
        counts = count_codes(ds)
        outline = _region_outline(ctx, ds) if nodata_ok else None
        if outline is not None:
            scan = region_scan(ds, outline)
            entry.update(region_pixels=scan["inside_px"], nodata_in_region_ha=scan["nodata_ha"])
            check_nodata_inside(ctx, item, rel, path, f"land use of {year}", scan)
        entry["valid_pixels"] = int(sum(counts.values()))
        entry["codes"] = {str(k): int(v) for k, v in sorted(counts.items())}
        if not counts:
            ctx.error(
                item,
                path,
                f"{rel}: holds only nodata pixels (nodata = {ds.nodata}); "
                "check the file and its nodata value.",
            )
        if scheme is not None and counts:
            known = set(scheme.codes.tolist())
            unknown = {c: n for c, n in counts.items() if c not in known}
            if unknown:
                ordered = sorted(unknown.items(), key=lambda kv: (-kv[1], kv[0]))
                shown = ", ".join(f"{c} ({fmt_int(n)} px)" for c, n in ordered[:15])
                more = f" and {len(ordered) - 15} more" if len(ordered) > 15 else ""
                hint = ""
                if not nodata_ok and 0 in unknown:
                    hint += " Code 0 is probably the background: declare it as nodata."
                fits = [o for o, codes in others.items() if set(counts) <= codes]
                if fits:
                    hint += (
                        f" All codes in the file belong to scheme {' / '.join(fits)}: "
                        f"set inputs.landuse.scheme accordingly."
                    )
                ctx.error(
                    item,
                    path,
                    f"{rel}: unknown codes {shown}{more} not in scheme {scheme.name} "
                    f"({scheme_label}); {plural(sum(unknown.values()), 'pixel')} in all. "
                    "Recode them to codes of the scheme, add them to the scheme table, or "
                    f"set them to nodata.{hint}",
                    unknown_codes={str(c): n for c, n in ordered},
                    scheme=scheme.name,
                )
            if ds.nodata is not None and float(ds.nodata).is_integer() and int(ds.nodata) in known:
                ctx.warning(
                    item,
                    path,
                    f"{rel}: the nodata value {ds.nodata:g} is also land-use code "
                    f"{int(ds.nodata)} of scheme {scheme.name}; those pixels are treated as "
                    "nodata. Use a nodata value that is not a class code (e.g. 0).",
                )
        ctx.checked(entry)


def check_continuous(ctx: Context, name: str, rel: str) -> None:
    item = f"inputs.rasters.{name}"
    declared = contract_item(RASTER, name)  # what, unit, ranges and hint: the contract's
    what = declared.label if declared else name
    unit, hard, plausible, hint = (
        (declared.unit, declared.hard, declared.plausible, declared.hint)
        if declared
        else ("", (None, None), (None, None), "")
    )
    ds, path = _open(ctx, item, rel, f"{what} raster ({unit})" if unit else f"{what} raster")
    if ds is None:
        ctx.checked({"item": item, "kind": "raster", "path": rel})
        return
    with ds:
        entry = _common(ctx, item, rel, path, ds)
        if not _nodata_declared(ds):
            ctx.warning(
                item,
                path,
                f"{rel}: no nodata value is declared, so every pixel is taken as valid "
                f"{what}; if some pixels mark 'no data', declare that value, e.g. "
                f"gdal_edit.py -a_nodata -9999 {rel}.",
            )
        dtype = np.dtype(ds.dtypes[0])
        if dtype.kind not in "uif":
            ctx.error(item, path, f"{rel}: has data type {dtype.name}; {what} must be numeric.")
            ctx.checked(entry)
            return
        stats = value_stats(ds)
        entry.update(stats)
        nd = ds.nodata
        if dtype.kind == "f" and nd is not None and not np.isnan(nd):
            n_nan = sum(int(np.isnan(ds.read(1, window=w)).sum()) for w in iter_strips(ds))
            if n_nan:
                ctx.warning(
                    item,
                    path,
                    f"{rel}: {fmt_int(n_nan)} pixels are NaN while the declared nodata is "
                    f"{fmt_num(nd)}; both are treated as no data. To keep one convention, "
                    f'e.g. gdal_calc.py -A {rel} --calc="nan_to_num(A, nan={fmt_num(nd)})" '
                    f"--NoDataValue={fmt_num(nd)}.",
                    nan_pixels=n_nan,
                )
        if stats["valid_pixels"] == 0:
            ctx.error(
                item,
                path,
                f"{rel}: holds only nodata pixels (nodata = {ds.nodata}); "
                "check the file and its nodata value.",
            )
            ctx.checked(entry)
            return
        outline = _region_outline(ctx, ds)
        if outline is not None:
            scan = region_scan(ds, outline, keep_values=True)
            entry.update(region_pixels=scan["inside_px"], nodata_in_region_ha=scan["nodata_ha"])
            check_nodata_inside(ctx, item, rel, path, what, scan)
            values = scan["values"]
        else:  # no usable region: the whole raster
            values = np.concatenate(
                [
                    _valid_values(ds, w)[:: max(1, stats["valid_pixels"] // SAMPLE_VALUES)]
                    for w in iter_strips(ds)
                ]
            ).astype("float64")
        n_errors = len(ctx.report.errors)
        check_units(ctx, name, item, rel, path, ds, values)
        if len(ctx.report.errors) > n_errors:  # the unit error says it all
            ctx.checked(entry)
            return
        vmin, vmax = stats["min"], stats["max"]
        rng = f"values range {fmt_num(vmin)} to {fmt_num(vmax)}"
        lo, hi = hard
        if (lo is not None and vmin < lo) or (hi is not None and vmax > hi):
            allowed = f"{fmt_num(lo) if lo is not None else '-∞'} to {fmt_num(hi) if hi is not None else '∞'}"
            ctx.error(
                item,
                path,
                f"{rel}: {rng}, outside the possible range {allowed} {unit} for "
                f"{what}; {hint or 'check the units and the nodata value'}. If the odd values "
                "mark missing data, declare them as nodata.",
                min=vmin,
                max=vmax,
            )
        else:
            plo, phi = plausible
            if (plo is not None and vmax < plo) or (phi is not None and vmax > phi):
                ctx.warning(
                    item,
                    path,
                    f"{rel}: {rng}, which is implausible for {what} in {unit}; "
                    f"{hint or 'check the units'}.",
                    min=vmin,
                    max=vmax,
                )
        ctx.checked(entry)


def check_rasters(ctx: Context) -> None:
    inputs = ctx.cfg["inputs"]
    lu = inputs["landuse"]
    files = lu.get("files") or {}
    by_year = {str(k): v for k, v in files.items()}
    years = [y for y in ctx.cfg.get("years") or [] if str(y) in by_year]
    scheme, label, others = load_scheme_for(ctx)
    fmt = lu["format"]
    owners = {str(k): v for k, v in (lu["ownership"] or {}).items()}
    for y in years if getattr(ctx, "check_landuse", True) else []:
        rel = by_year[str(y)]
        if isinstance(rel, str) and rel and fmt == "polygons":  # DLTB (nxgeo.survey)
            from ..survey.validate import check_landuse_polygons

            ctx.guard(
                f"inputs.landuse.files.{y}",
                rel,
                lambda rel=rel, y=y: check_landuse_polygons(ctx, y, rel, scheme),
            )
        elif isinstance(rel, str) and rel:
            from ..survey.validate import check_ownership_raster

            ctx.guard(
                f"inputs.landuse.files.{y}",
                rel,
                lambda rel=rel, y=y: check_landuse(ctx, y, rel, scheme, label, others),
            )
            own = owners.get(str(y))
            ctx.guard(
                f"inputs.landuse.ownership.{y}",
                own,
                lambda own=own, y=y: check_ownership_raster(ctx, y, own),
            )
    for name, rel in (inputs.get("rasters") or {}).items():
        if isinstance(rel, str) and rel:
            ctx.guard(
                f"inputs.rasters.{name}",
                rel,
                lambda name=name, rel=rel: check_continuous(ctx, name, rel),
            )


__all__ = [
    "check_crs_datum",
    "check_rasters",
    "count_codes",
    "iter_strips",
    "region_scan",
    "value_stats",
]
