"""Shared pieces of the input checks: CRS helpers, the region, the checking context.

Used by the runner (:mod:`nxgeo.validate.runner`), the scopes (:mod:`nxgeo.validate.scope`) and
the checks ``rasters`` / ``vectors`` / ``tables``. Problems and the report are in
:mod:`nxgeo.validate.report`.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

from .report import (
    ERROR,
    WARNING,
    Problem,
    ValidationReport,
    fmt_bounds,
    fmt_num,
    jsonable,
)


def to_pyproj(crs: Any):
    """pyproj CRS from a rasterio/pyproj CRS or user input; None when absent or unreadable."""
    if crs is None:
        return None
    from pyproj import CRS

    try:
        if hasattr(crs, "to_wkt") and not isinstance(crs, CRS):
            wkt = crs.to_wkt()
            return CRS.from_wkt(wkt) if wkt else None
        return CRS.from_user_input(crs)
    except Exception:
        return None


def crs_label(crs: Any) -> str | None:
    c = to_pyproj(crs)
    if c is None:
        return None
    try:
        code = c.to_epsg(min_confidence=90)
    except Exception:
        code = None
    return f"EPSG:{code} ({c.name})" if code else c.name


def _false_easting(crs) -> float | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(crs.to_dict().get("x_0", 0.0))
    except Exception:
        return None


def suggest_crs(bounds) -> str:
    """A CGCS2000 EPSG code that fits coordinates with these bounds (for 'assign a CRS' hints)."""
    minx, miny, maxx, maxy = bounds
    if -180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90:
        return "EPSG:4490"
    if 1.3e7 <= minx < 2.4e7:
        return f"EPSG:{4491 + int(minx // 1e6) - 13}"  # 6-degree zone with prefix
    if 2.5e7 <= minx < 4.6e7:
        return f"EPSG:{4513 + int(minx // 1e6) - 25}"  # 3-degree zone with prefix
    return "EPSG:4507"


def crs_mismatch_hint(bounds, crs: Any) -> str:
    """Explain common CRS mistakes visible in the coordinates (zone prefix, metres as degrees)."""
    c = to_pyproj(crs)
    if c is None:
        return ""
    minx, miny, maxx, maxy = bounds
    if c.is_geographic and looks_swapped(bounds):
        return (
            " The coordinates look like (latitude, longitude): x spans "
            f"{fmt_num(minx)}–{fmt_num(maxx)} and y {fmt_num(miny)}–{fmt_num(maxy)}, so the axis "
            "order is swapped; export the layer again with longitude as x (e.g. ogr2ogr "
            "-s_srs EPSG:4490 -t_srs EPSG:4490 with OAMS_TRADITIONAL_GIS_ORDER, or swap the "
            "columns)."
        )
    if c.is_geographic and (abs(minx) > 360 or abs(maxx) > 360):
        return (
            f" The coordinates look like metres but the CRS is geographic (degrees): assign the "
            f"projected CRS the data were made in (e.g. {suggest_crs(bounds)})."
        )
    if c.is_projected:
        x0 = _false_easting(c)
        if x0 is not None and x0 < 1e6 and minx > 1e7:
            return (
                f" The x coordinates ({fmt_num(minx)} …) carry a zone-number prefix but the CRS "
                f"has false easting {fmt_num(x0)}: assign the CGCS2000 Gauss-Kruger CRS *with* the "
                f"zone prefix (here {suggest_crs(bounds)}; EPSG:4491–4501 for 6-degree zones "
                "13–23, EPSG:4513–4533 for 3-degree zones 25–45)."
            )
        if x0 is not None and x0 > 1e7 and maxx < 1e6:
            return (
                f" The x coordinates ({fmt_num(minx)} …) have no zone-number prefix but the CRS "
                f"has false easting {fmt_num(x0)}: assign the CGCS2000 Gauss-Kruger CRS "
                "*without* the prefix (EPSG:4502–4512 6-degree CM 75E–135E, EPSG:4534–4554 "
                "3-degree; EPSG:4507 is CM 105E)."
            )
    return ""


def looks_swapped(bounds) -> bool:
    """Geographic bounds whose x looks like a latitude and y like a longitude in China."""
    minx, miny, maxx, maxy = bounds
    return (15 <= minx <= maxx <= 55) and (70 <= miny <= maxy <= 140)


def bbox_intersection(a, b):
    minx, miny = max(a[0], b[0]), max(a[1], b[1])
    maxx, maxy = min(a[2], b[2]), min(a[3], b[3])
    if minx > maxx or miny > maxy:
        return None
    return (minx, miny, maxx, maxy)


# ------------------------------------------------------------------------------------------
# checking context


class Region:
    """The region = the counties layer; bounds and outline available in any CRS (cached)."""

    def __init__(self, geoms, crs, source: str):
        import geopandas as gpd

        self.geoms = gpd.GeoSeries(list(geoms), crs=crs)
        self.source = source
        self._cache: dict[str, tuple | None] = {}

    def in_crs(self, crs: Any):
        """(bounds, outline) of the region in `crs`, or None if it cannot be transformed."""
        c = to_pyproj(crs)
        if c is None:
            return None
        key = c.to_wkt()
        if key not in self._cache:
            try:
                g = self.geoms.to_crs(c)
                bounds = tuple(float(v) for v in g.total_bounds)
                if not all(math.isfinite(v) for v in bounds):
                    raise ValueError("non-finite bounds")
                self._cache[key] = (bounds, g.union_all())
            except Exception:
                self._cache[key] = None
        return self._cache[key]


class Context:
    """What the item checks share: config, base folder, the report, and facts found so far."""

    def __init__(self, cfg: dict, base_dir: str | Path, report: ValidationReport):
        self.cfg = cfg
        self.base_dir = Path(base_dir)
        self.report = report
        self.region: Region | None = None
        self.counties: dict[str, str] | None = None  # adcode -> name, from the counties layer
        self.check_landuse = True  # False: the land-use rasters are left out

    # paths -----------------------------------------------------------------------------
    def resolve(self, rel: str | Path) -> Path:
        p = Path(rel).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def missing_file(self, item: str, rel: str, path: Path, what: str) -> None:
        self.error(
            item,
            path,
            f"{rel}: file not found (looked for {path.resolve()}); check `{item}` in the "
            f"config — it should point to the {what}. Relative paths are relative to the "
            f"folder you run nxgeo from ({self.base_dir.resolve()}).",
        )

    # problems --------------------------------------------------------------------------
    def add(self, severity: str, item: str, path, message: str, **details) -> None:
        self.report.problems.append(
            Problem(
                severity=severity,
                item=item,
                path=None if path is None else str(path),
                message=message,
                details=jsonable(details),
            )
        )

    def error(self, item: str, path, message: str, **details) -> None:
        self.add(ERROR, item, path, message, **details)

    def warning(self, item: str, path, message: str, **details) -> None:
        self.add(WARNING, item, path, message, **details)

    def checked(self, entry: dict) -> None:
        self.report.checked.append(jsonable(entry))

    # extent ----------------------------------------------------------------------------
    def check_overlap(
        self, item: str, path, label: str, bounds, crs: Any, min_cover: float | None = None
    ) -> None:
        """Error when `bounds` (in `crs`) miss the region; warning when they cover < min_cover."""
        if self.region is None or crs is None or bounds is None:
            return
        got = self.region.in_crs(crs)
        if got is None:
            self.warning(
                item,
                path,
                f"{label}: the region (counties layer) could not be transformed into this "
                f"file's CRS ({crs_label(crs)}), so its extent was not checked; check the CRS.",
            )
            return
        rbounds, outline = got
        inter = bbox_intersection(bounds, rbounds)
        if inter is None:
            self.error(
                item,
                path,
                f"{label}: does not overlap the region. Its bounds are {fmt_bounds(bounds)}; "
                f"the region's bounds (the counties layer {self.region.source}) are "
                f"{fmt_bounds(rbounds)} in the same CRS ({crs_label(crs)}). Check that the file "
                "covers the study region and that its CRS is the one its coordinates are in."
                + crs_mismatch_hint(bounds, crs),
                bounds=bounds,
                region_bounds=rbounds,
            )
            return
        if min_cover is not None:
            try:
                from shapely.geometry import box

                area = outline.area
                frac = outline.intersection(box(*bounds)).area / area if area > 0 else 1.0
            except Exception:
                return
            if frac < min_cover:
                self.warning(
                    item,
                    path,
                    f"{label}: covers only {frac:.0%} of the region (bounds {fmt_bounds(bounds)}"
                    f", region {fmt_bounds(rbounds)}); results outside it will be nodata. "
                    "Extend the file to the whole region.",
                    cover=frac,
                )

    # robustness ------------------------------------------------------------------------
    def guard(self, item: str, rel: str | None, fn) -> None:
        """Run one item check; an unexpected failure becomes an error instead of a crash."""
        try:
            fn()
        except Exception as exc:
            path = self.resolve(rel) if rel else None
            self.error(
                item,
                path,
                f"{rel or item}: could not be checked ({type(exc).__name__}: {exc}); check "
                "that the file is complete and readable (try opening it in QGIS).",
            )
