"""Build the embedded sample region (synthetic Ningxia) from the reference layers.

Rasters are generated block by block (row strips), so memory is bounded by the strip size and
whole Ningxia at 30 m fits a small machine. Everything is deterministic from ``seed``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

import numpy as np
import shapely

from ..atomic import atomic_path, write_csv
from ..vector_io import write_layers
from .blockio import BlockWriter
from .climate import precipitation
from .fields import build_environment
from .grids import (
    GEO_CRS,
    TM3_CM105_CRS,
    TM3_ZONE35_CRS,
    TM_CRS,
    TM_ZONE18_CRS,
    ZONE18_FALSE_EASTING_PREFIX,
    LonLatNodes,
    degrees_for,
    snapped_grid,
)
from .landcover import (
    BUILT_CODES,
    CODES,
    GREEN_CODES,
    IRRIGATED_CODES,
    NODATA,
    Block,
    LandCoverModel,
    ShapeSet,
)
from .reference import load_reference
from .survey import CODE_NAMES, OWNER_NODATA, DltbBuilder
from .tables import county_emissions, greening_targets, water_budgets
from .terrain import DemReader, GridSampler, TerrainModel, dem_grid_bounds, write_dem
from .vectors import (
    Summary,
    canals_layer,
    counties_layer,
    emigration_layer,
    farmland_layer,
    homesteads,
    mines_layer,
    protected_layer,
    reaches_layer,
    redline_layer,
    rivers_layer,
    settlements_roads,
    zone_layer,
)

log = logging.getLogger(__name__)

GRID_MARGIN_M = 2000.0
SUMMARY_CELL_M = 500.0
PROTECTED_ZONE_VALUE = {"experimental": 1, "buffer": 2, "core": 3}


def sample_files(years=(2023, 2024)) -> dict[str, str]:
    """Files the generator writes, relative to the output folder."""
    files = {"dem": "dem.tif", "precipitation": "precipitation.tif"}
    files.update({f"landuse_{y}": f"landuse_{y}.tif" for y in years})
    # the survey's own form of the same land use (nxgeo.sample.survey): DLTB polygons, ownership
    files.update({f"ownership_{y}": f"ownership_{y}.tif" for y in years})
    files.update({f"dltb_{y}": f"dltb_{y}.gpkg" for y in years})
    files.update(
        {
            "counties": "vector/counties.geojson",
            "reaches": "vector/reaches.gpkg",
            "zones": "vector/zones.gpkg",
            "homesteads": "vector/homesteads.gpkg",
            "mines": "vector/mines.gpkg",
            "water": "vector/water.gpkg",
            "infrastructure": "vector/infrastructure.gpkg",
            "water_budgets": "tables/water_budgets.csv",
            "greening_targets": "tables/greening_targets.csv",
            "county_emissions": "tables/county_emissions.csv",
        }
    )
    return files


class _Progress:
    def __init__(self, total: int, enabled: bool):
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="sample", unit="block")

    def __call__(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _write_geojson(gdf, path: Path, name: str) -> Path:
    """GeoJSON with a fixed collection name (``write_layers`` would record the temporary
    file name in the ``name`` member, which changes the bytes from run to run)."""
    with atomic_path(path) as tmp:
        gdf.to_file(tmp, driver="GeoJSON", engine="pyogrio", layer=name)
    return Path(path)


def build_sample(
    reference_dir,
    out_dir,
    resolution: float = 250.0,
    seed: int = 20240601,
    n_homesteads: int = 3000,
    n_mines: int = 300,
    years=(2023, 2024),
    progress: bool = False,
) -> dict[str, Path]:
    """Write the sample region into ``out_dir``; returns {item: path} of every file written.

    Same arguments -> the same bytes. ``years``: survey years, the first is generated from
    the environment, each later one by changing the previous one.
    """
    t_start = time.perf_counter()
    resolution = float(resolution)
    if not 0 < resolution <= 5000:
        raise ValueError(f"resolution must be in (0, 5000] metres, got {resolution}")
    years = tuple(int(y) for y in years)
    if not years or list(years) != sorted(set(years)):
        raise ValueError(f"years must be increasing and distinct, got {years}")
    if n_homesteads < 0 or n_mines < 0:
        raise ValueError("n_homesteads and n_mines must be >= 0")
    out = Path(out_dir)
    paths = {k: out / v for k, v in sample_files(years).items()}

    ref = load_reference(reference_dir)
    terrain = TerrainModel(ref, seed, resolution)
    env = build_environment(ref, terrain.base_elevation)
    terrain.attach(env)
    region = env.region_tm
    minx, miny, maxx, maxy = region.bounds
    m = GRID_MARGIN_M
    lu_grid = snapped_grid(TM_CRS, (minx - m, miny - m, maxx + m, maxy + m), resolution)
    dem_grid = snapped_grid(GEO_CRS, dem_grid_bounds(lu_grid), degrees_for(resolution))
    precip_grid = lu_grid.shifted(TM_ZONE18_CRS, ZONE18_FALSE_EASTING_PREFIX)
    log.info(
        "sample grids: land use %dx%d (%s, %g m), DEM %dx%d (%s)",
        lu_grid.width,
        lu_grid.height,
        TM_CRS,
        resolution,
        dem_grid.width,
        dem_grid.height,
        GEO_CRS,
    )

    # vectors the rasters depend on
    protected = protected_layer(ref, region)
    sand = zone_layer(ref, "sand_area", region)
    mining = zone_layer(ref, "mining_area", region)
    emigration = emigration_layer(ref, env, terrain, seed)
    hs = homesteads(ref, env, terrain, emigration, n_homesteads, years, seed)
    mines = mines_layer(ref, env, terrain, n_mines, years, seed, protected)
    settlements, roads = settlements_roads(ref, env, hs.villages, seed)
    counties_tm = ref.counties_tm
    adcodes = list(counties_tm["adcode"])
    shapes = {
        "counties": ShapeSet.of(counties_tm.geometry.values, np.arange(1, len(adcodes) + 1)),
        # Ningxia without the slivers between the (independently simplified) county polygons
        "region": ShapeSet.of([region.buffer(100.0).buffer(-100.0)]),
        "sand_areas": ShapeSet.of(sand.geometry.values),
        "mining_areas": ShapeSet.of(mining.geometry.values),
        "protected": ShapeSet.of(
            protected.geometry.values, [PROTECTED_ZONE_VALUE[z] for z in protected["zone"]]
        ),
        "emigration": ShapeSet.of(emigration.geometry.values),
        "villages": ShapeSet.of(hs.disks),
        "homesteads": ShapeSet.of(hs.parcels.geometry.values, np.arange(1, len(hs.parcels) + 1)),
        "mines": ShapeSet.of(mines.geometry.values),
        "yellow": ShapeSet.of([shapely.LineString(env.yellow)]),
        "qingshui": ShapeSet.of([shapely.LineString(env.qingshui)]),
        "canals": ShapeSet.of([c for _, _, c in env.canals]),
        "roads": ShapeSet.of(roads.geometry.values),
    }
    landcover = LandCoverModel(seed, resolution, lu_grid, env, years, shapes, hs.codes)
    dltb = DltbBuilder(lu_grid, adcodes, CODE_NAMES, seed, len(years))
    tick = _Progress(dem_grid.n_strips() + lu_grid.n_strips(), progress)
    tags = {
        "generator": "nxgeo.sample",
        "seed": seed,
        "resolution_m": resolution,
        "synthetic": "yes - embedded sample region, not survey data",
    }

    # --- DEM ---------------------------------------------------------------------------------
    with BlockWriter(
        paths["dem"],
        dem_grid,
        np.float32,
        -9999.0,
        tags={**tags, "units": "m"},
        description="elevation (m)",
    ) as w:
        write_dem(w, dem_grid, terrain, tick)

    # --- land use per year + precipitation ----------------------------------------------------
    n_years, n_c = len(years), len(adcodes)
    lut = np.full(max(CODES) + 1, -1, dtype=np.int64)
    lut[list(CODES)] = np.arange(len(CODES))
    lut[NODATA] = len(CODES)
    n_codes = len(CODES) + 1
    counts = np.zeros((n_years, n_c + 1, n_codes), dtype=np.int64)
    green_gain = np.zeros((n_years, n_c + 1), dtype=np.int64)
    green = np.zeros(max(CODES) + 1, dtype=bool)
    green[list(GREEN_CODES)] = True
    cell = max(SUMMARY_CELL_M, resolution)
    ncx = int(np.ceil(lu_grid.width * resolution / cell))
    ncy = int(np.ceil(lu_grid.height * resolution / cell))
    col_cell = ((lu_grid.xs() - lu_grid.x0) // cell).astype(np.int64)
    summary = Summary(lu_grid.x0, lu_grid.y0, cell, *(np.zeros(ncy * ncx) for _ in range(4)))
    nodes = LonLatNodes(lu_grid)
    xs = lu_grid.xs()
    import rasterio

    with contextlib.ExitStack() as stack:
        dem_ds = stack.enter_context(rasterio.open(paths["dem"]))
        reader = DemReader(dem_ds, dem_grid)
        pw = stack.enter_context(
            BlockWriter(
                paths["precipitation"],
                precip_grid,
                np.float32,
                -9999.0,
                tags={**tags, "units": "mm/yr"},
                description="annual precipitation (mm/yr)",
            )
        )
        lws = [
            stack.enter_context(
                BlockWriter(
                    paths[f"landuse_{y}"],
                    lu_grid,
                    np.int16,
                    NODATA,
                    tags={**tags, "scheme": "gbt21010", "year": y},
                    description=f"land use {y} (GB/T 21010-2017 codes, 0702 -> 702)",
                )
            )
            for y in years
        ]
        ows = [
            stack.enter_context(
                BlockWriter(
                    paths[f"ownership_{y}"],
                    lu_grid,
                    np.uint8,
                    OWNER_NODATA,
                    tags={**tags, "year": y, "values": "1 = state-owned 国有, 2 = collective 集体"},
                    description=f"ownership {y} (QSXZ of the DLTB)",
                )
            )
            for y in years
        ]
        for r0, r1 in lu_grid.strips():
            lon_h, lat_h = nodes.block(r0 - 1, r1 + 1)
            z_h = reader.sample(lon_h, lat_h)
            gy, gx = np.gradient(z_h, np.float32(resolution))
            grad = np.hypot(gx, gy)[1:-1]
            slope = np.degrees(np.arctan(grad)).astype(np.float32)
            north = (gy[1:-1] / np.maximum(grad, 1e-6)).astype(np.float32)
            z, lon, lat = z_h[1:-1], lon_h[1:-1], lat_h[1:-1]
            S = GridSampler(xs, lu_grid.ys(r0, r1))
            P = precipitation(lon, lat, z, S(landcover.precip_noise))
            blk = Block(r0, r1, S, lon, lat, z, slope, north, P)
            lus, _f, zn = landcover.classify(blk)
            pw.write(r0, P)
            cid = zn["county"].astype(np.int64)
            q_prev = None
            for k, lu in enumerate(lus):
                lws[k].write(r0, lu)
                own, q_prev = dltb.add(k, r0, lu, cid, q_prev)
                ows[k].write(r0, own)
                idx = lut[lu]
                if (idx < 0).any():
                    raise RuntimeError(f"internal: code outside CODES: {np.unique(lu[idx < 0])}")
                counts[k] += np.bincount(
                    (cid * n_codes + idx).ravel(), minlength=(n_c + 1) * n_codes
                ).reshape(n_c + 1, n_codes)
                if k > 0:
                    gain = green[lu] & ~green[lus[k - 1]]
                    green_gain[k] += np.bincount(cid[gain], minlength=n_c + 1)
            rc = ((lu_grid.y0 - lu_grid.ys(r0, r1)) // cell).astype(np.int64)
            flat = (rc[:, None] * ncx + col_cell[None, :]).ravel()
            valid = (cid > 0).ravel()
            fv = flat[valid]
            size = ncy * ncx
            summary.valid += np.bincount(fv, minlength=size)
            irr = np.isin(lus[0], IRRIGATED_CODES).ravel()[valid]
            summary.irrigated += np.bincount(fv, weights=irr, minlength=size)
            summary.z_sum += np.bincount(fv, weights=z.ravel()[valid], minlength=size)
            summary.slope_sum += np.bincount(fv, weights=slope.ravel()[valid], minlength=size)
            tick()
    tick.close()
    for name in ("valid", "irrigated", "z_sum", "slope_sum"):
        setattr(summary, name, getattr(summary, name).reshape(ncy, ncx))

    # --- vectors derived from the land use, and all vector files ------------------------------
    redline = redline_layer(summary, protected, env, ref)
    farmland = farmland_layer(summary, env)
    _write_geojson(counties_layer(ref), paths["counties"], "counties")
    write_layers(paths["reaches"], {"reaches": reaches_layer(ref)})
    write_layers(
        paths["zones"],
        {
            "protected_areas": protected,
            "ecological_redline": redline,
            "basic_farmland": farmland,
            "emigration_areas": emigration,
            "mining_areas": mining,
            "sand_areas": sand,
        },
    )
    write_layers(paths["homesteads"], {"homesteads": hs.parcels.to_crs(TM3_CM105_CRS)})
    write_layers(paths["mines"], {"mines": mines.to_crs(TM3_ZONE35_CRS)})
    write_layers(paths["water"], {"rivers": rivers_layer(ref), "canals": canals_layer(env)})
    write_layers(paths["infrastructure"], {"settlements": settlements, "roads": roads})
    for k, y in enumerate(years):
        write_layers(paths[f"dltb_{y}"], {"DLTB": dltb.frame(k)})

    # --- tables -----------------------------------------------------------------------------
    px_ha = resolution * resolution / 1e4
    code_idx = {c: i for i, c in enumerate(CODES)}
    irr_ha = counts[:, 1:, [code_idx[c] for c in IRRIGATED_CODES]].sum(axis=2) * px_ha
    built_ha = counts[:, 1:, [code_idx[c] for c in BUILT_CODES]].sum(axis=2) * px_ha
    area_ha = counts[0, 1:, : len(CODES)].sum(axis=1) * px_ha
    write_csv(
        water_budgets(adcodes, years, irr_ha, built_ha, area_ha, seed),
        paths["water_budgets"],
        bom=False,
    )
    write_csv(
        greening_targets(adcodes, years, green_gain[:, 1:] * px_ha, area_ha, seed),
        paths["greening_targets"],
        bom=False,
    )
    write_csv(county_emissions(adcodes, years, seed), paths["county_emissions"], bom=False)
    log.info("sample region written to %s in %.1f s", out, time.perf_counter() - t_start)
    return paths
