"""Validate every input of the data contract before any compute (`nxgeo validate`).

``validate_inputs(cfg, base_dir)`` checks the configuration (schema + semantic rules) and then
every raster, vector layer and table named under ``inputs:``. It never raises for bad data: it
collects *all* problems into a :class:`ValidationReport`, each naming the file (and layer,
field, code, value) and saying what to do. ``write_reports`` writes the Markdown and JSON
reports atomically.

Checks, by item:

- ``config``: JSON-Schema problems and the semantic rules of :mod:`nxgeo.config` (projected
  analysis CRS, a land-use file for every year, ...).
- rasters (land use per year, DEM, precipitation, optional FVC / K / sand fraction / wind
  factor): file exists, GDAL can read it, georeferenced with a CRS, overlaps the region (the
  counties layer), nodata declared; land use must be integer and every code must be in the
  declared scheme (unknown codes listed with pixel counts); continuous rasters in a plausible
  range for their unit. Read in row strips, never whole.
- vectors: file and layer exist, not empty, CRS present, configured fields exist, allowed
  values (status / zone / adcode), unique ids, geometry type, null/empty and invalid
  geometries (repaired with make_valid, reported as a warning), overlap with the region;
  reaches cover the configured ``reaches``.
- tables (CSV, UTF-8): required columns, every cell against the row schema (numbers, ranges,
  patterns), ``x-key`` uniqueness, ``x-covers`` (every county x every year), carbon densities
  for every class, water demand for every target use.
"""

from __future__ import annotations

import re
from pathlib import Path

from .core import Context
from .report import ERROR, WARNING, Problem, ValidationReport, write_reports

__all__ = ["ERROR", "WARNING", "Problem", "ValidationReport", "validate_inputs", "write_reports"]


def _config_problems(cfg) -> list[str]:
    from ..config import schema_problems, semantic_problems

    problems: list[str] = []
    try:
        problems += schema_problems(cfg)
    except Exception as exc:
        problems.append(f"the configuration could not be checked against its schema ({exc})")
    try:
        problems += [p for p in semantic_problems(cfg) if p not in problems]
    except Exception as exc:
        if not problems:
            problems.append(f"the configuration could not be checked ({exc})")
    return problems


def _filled(cfg: dict) -> dict:
    """`cfg` with the schema defaults filled in (as check_config returns it, but never
    raising: the problems are reported by _config_problems)."""
    from ..config import fill_defaults

    try:
        return fill_defaults(cfg)
    except Exception:
        return cfg


def _config_key(problem: str) -> str:
    """The key a config problem is about, e.g. 'inputs.landuse.scheme' (or 'config')."""
    head = problem.split(":", 1)[0].strip()
    return head if re.fullmatch(r"[\w.\[\]]+", head) else "config"


def _is_dict(d, *keys) -> bool:
    for k in keys:
        if not isinstance(d, dict):
            return False
        d = d.get(k)
    return isinstance(d, dict)


def validate_inputs(
    cfg: dict, base_dir: str | Path = ".", check_landuse: bool = True
) -> ValidationReport:
    """Check the config and every input it names; all problems are collected, none raised.
    With `check_landuse` False the land-use rasters are left out (the shared inputs only)."""
    from .rasters import check_rasters
    from .tables import check_tables
    from .vectors import check_vectors

    report = ValidationReport(problems=[], checked=[])
    ctx = Context(cfg if isinstance(cfg, dict) else {}, base_dir, report)
    ctx.check_landuse = check_landuse
    if not isinstance(cfg, dict):
        ctx.error(
            "config",
            None,
            "the configuration must be a mapping of keys to values "
            "(see config/config.yaml for an example)",
        )
        return report
    # the checks read the complete config (absent keys at their schema defaults)
    ctx.cfg = cfg = _filled(cfg)
    for p in _config_problems(cfg):
        ctx.error("config", None, p, key=_config_key(p))
    # Structurally broken config: stop after the config problems.
    if not _is_dict(cfg, "inputs") or not isinstance(cfg.get("years", []), list):
        return report
    if _is_dict(cfg, "inputs", "vectors"):
        ctx.guard("inputs.vectors", None, lambda: check_vectors(ctx))
        ctx.guard("grid.resolution", None, lambda: check_grid_size(ctx))
    if _is_dict(cfg, "inputs", "landuse", "files") and isinstance(
        cfg["inputs"].get("rasters", {}), dict
    ):
        ctx.guard("inputs.rasters", None, lambda: check_rasters(ctx))
    if _is_dict(cfg, "inputs", "tables"):
        ctx.guard("inputs.tables", None, lambda: check_tables(ctx))
    return report


def check_grid_size(ctx: Context) -> None:
    """Refuse an analysis grid over the pixel budget (`grid.max_pixels`), with the grid the
    run would build (rule prepare_grid refuses the same grid)."""
    import geopandas as gpd

    from ..grid import grid_for_region, pixel_budget_problem

    g = ctx.cfg.get("grid")
    if ctx.region is None or not isinstance(g, dict):
        return
    res, crs = g.get("resolution"), g.get("crs")
    max_px = g["max_pixels"]  # the schema default when not given
    if (
        not isinstance(res, (int, float))
        or res <= 0
        or not isinstance(crs, str)
        or not isinstance(max_px, int)
    ):
        return  # reported as config problems
    try:
        grid = grid_for_region(
            gpd.GeoDataFrame(geometry=ctx.region.geoms), crs=crs, resolution=float(res)
        )
    except Exception:
        return
    problem = pixel_budget_problem(grid, max_px)
    if problem:
        ctx.error(
            "grid.resolution",
            None,
            problem,
            pixels=grid.width * grid.height,
            max_pixels=max_px,
            key="grid.max_pixels",
        )
