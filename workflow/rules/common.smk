# Shared helpers for all rules: paths from config, wildcard constraints.
import os
from pathlib import Path

# GDAL's block cache defaults to 5 % of RAM (1.2 GB on a 24 GB machine); filled by a 30 m
# raster it dominated a job's memory. 32 MB keeps every job bounded by its own blocks (and is
# not slower: the steps read and write each block once; COG overviews need ~32 MB to stay
# fast). The environment can override it.
os.environ.setdefault("GDAL_CACHEMAX", "32")

from nxgeo.paths import contract_files, sample_outputs

RESULTS = config.get("results_dir", "results")
YEARS = [int(y) for y in config["years"]]
REACHES = list(config["reaches"])
NXGEO_VERSION = nxgeo.__version__


wildcard_constraints:
    year=r"\d{4}",
    reach=r"[a-z][a-z0-9_]*",
    year_a=r"\d{4}",
    year_b=r"\d{4}",


def inputs_for_year(year):
    """Every contract file one year needs. Static layers are wrapped in ancient() (a new year
    never rebuilds old years); the year's own land use is not, so editing it reruns that year."""
    files = contract_files(config, year)
    return {k: (v if k.startswith("landuse_") else ancient(v)) for k, v in files.items()}


# Continuous rasters configured (dem, precipitation, optional fvc/soil_k/...), by name.
STATIC_RASTERS = {k: v for k, v in config["inputs"]["rasters"].items() if v}
# What a year's reach folder holds from the clipping: canonical and source-code land use (rule
# clip_reach) plus the static rasters (clip_static once, copied by reach_static).
YEAR_LAYERS = ["landuse", "landuse_code"]
REACH_LAYERS = [*YEAR_LAYERS, *STATIC_RASTERS]


def landuse_key(year):
    """The key of inputs.landuse.files for a year (YAML may give int or str keys)."""
    files = config["inputs"]["landuse"]["files"]
    return int(year) if int(year) in files else str(year)

COMPARE = [(int(a), int(b)) for a, b in config.get("compare", [])]

from nxgeo.terrain import TERRAIN_LAYERS
from nxgeo.zones import ZONE_LAYERS

from nxgeo.suitability import best_use_order

TARGETS = best_use_order(config["suitability"])


def suitability_layers(wc):
    """Layer name -> reach raster for the suitability overlay."""
    d = f"{RESULTS}/{wc.year}/reaches/{wc.reach}"
    layers = {"landuse": f"{d}/landuse.tif", "elevation": f"{d}/dem.tif",
              "precipitation": f"{d}/precipitation.tif", "slope": f"{d}/slope.tif",
              "ls": f"{d}/ls.tif", "distance_water": f"{d}/distance_water.tif",
              "distance_roads": f"{d}/distance_roads.tif",
              "distance_settlements": f"{d}/distance_settlements.tif"}
    for name in ZONE_LAYERS:
        if name != "county":
            layers[name] = f"{d}/zone_{name}.tif"
    for name in ("soil_k", "sand_fraction"):
        if name in STATIC_RASTERS:
            layers[name] = f"{d}/{name}.tif"
    return layers


def validation_view(cfg, year):
    """The part of the config that decides what one year's inputs are."""
    files = cfg["inputs"]["landuse"]["files"]
    one = None if year is None else files.get(int(year), files.get(str(year)))
    return {"landuse": {"scheme": cfg["inputs"]["landuse"]["scheme"], "file": one},
            "rasters": cfg["inputs"]["rasters"], "vectors": cfg["inputs"]["vectors"],
            "tables": cfg["inputs"]["tables"], "grid": cfg["grid"], "reaches": cfg["reaches"],
            "classes_table": cfg["landuse"]["classes_table"]}


onstart:
    # A killed run (SIGKILL) cannot clean up: remove its temporary files before resuming.
    from nxgeo.atomic import sweep_temp

    for p in sweep_temp(RESULTS):
        print(f"removed a temporary file left by an interrupted run: {p}")


def year_outputs(year):
    """The tables and layers of one survey year (what maps, provenance and report summarise)."""
    y = f"{RESULTS}/{year}"
    out = [f"{y}/validation/report.json", f"{y}/candidates.gpkg",
           f"{y}/tables/inventory_by_class.csv", f"{y}/tables/water_capacity.csv",
           f"{y}/tables/services_by_county.csv", f"{y}/tables/candidates_summary.csv",
           f"{y}/tables/gep_by_county.csv"]
    out += [f"{RESULTS}/{b}/compare/{a}_{b}/gep_change_by_county.csv" for a, b in COMPARE
            if b == year]
    out += [f"{RESULTS}/{b}/compare/{a}_{b}/greening_ledger.csv" for a, b in COMPARE if b == year]
    out += [f"{RESULTS}/{b}/compare/{a}_{b}/transition_matrix.csv" for a, b in COMPARE if b == year]
    return out
