"""Where every output goes: the one registry of result paths (README "What comes out").

The rules (workflow/rules/*.smk, through ``OUT = Layout(RESULTS)`` in common.smk), the steps,
the maps, the report and the command line take their paths from here; nothing else spells a
path under the results folder. A path is a string: with the default arguments it is a
Snakemake pattern (``{year}``, ``{reach}``, ``{year_a}``, ``{year_b}`` wildcards), with values
it is a file::

    >>> Layout("results").reach("slope")
    'results/{year}/reaches/{reach}/slope.tif'
    >>> Layout("results").table("gep_by_county", year=2024)
    'results/2024/tables/gep_by_county.csv'

The layout (one folder per survey year, never touched by another year's run)::

    common/validation/report.md|json, items/<scope>.json   checks of the shared inputs
    common/vectors.gpkg, grid.json, grid/<name>.tif         shared prepared layers
    common/reaches/<reach>/<name>.tif                       year-independent reach rasters
    <year>/validation/report.md|json, landuse.json          one year's checks
    <year>/survey/dltb.gpkg                                 prepared DLTB (format polygons)
    <year>/grid/<name>.tif                                  land use on the grid
    <year>/reaches/<reach>/<name>.tif                       clipped inputs, terrain, zone_<z>
    <year>/reaches/<reach>/official/<kind>.tif              official 双评价 layers, coded
    <year>/reaches/<reach>/suitability/<file>               suitability rasters and legends
    <year>/reaches/<reach>/services/<file>                  service rasters, services_meta.json
    <year>/reaches/<reach>/candidates.gpkg|_stats.json      a reach's parcels before water
    <year>/candidates.gpkg, programme.gpkg                  the year's parcels and programme
    <year>/tables/<name>.csv                                the year's tables
    <year_b>/compare/<year_a>_<year_b>/<file>               comparison of two years
    <year>/maps/, report/index.html|report.pdf, export/     maps, report, exports
    <year>/nxgeo_<year>.qgz, qgis/<stem>.vrt                QGIS project and mosaics
    <year>/provenance.json, logs/<step>.log, benchmarks/<step>.tsv
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

#: the Snakemake wildcards of the layout
YEAR, REACH, YEAR_A, YEAR_B = "{year}", "{reach}", "{year_a}", "{year_b}"


class Layout:
    """The result paths under one results folder (config ``results_dir``)."""

    def __init__(self, root: str | Path = "results"):
        self.root = str(root).rstrip("/") or "."

    def __repr__(self) -> str:
        return f"Layout({self.root!r})"

    # -- the shared folder ----------------------------------------------------------------
    def common(self, rel: str = "") -> str:
        """``common/<rel>`` (the folder itself without `rel`)."""
        return f"{self.root}/common/{rel}" if rel else f"{self.root}/common"

    def common_validation(self, name: str) -> str:
        """``common/validation/<name>`` (report.md, report.json)."""
        return self.common(f"validation/{name}")

    def validation_item(self, scope_file: str = "{scope}") -> str:
        """``common/validation/items/<scope_file>.json``: the check of one input scope."""
        return self.common(f"validation/items/{scope_file}.json")

    def vectors(self) -> str:
        """Every prepared vector layer (one GeoPackage)."""
        return self.common("vectors.gpkg")

    def grid_json(self) -> str:
        """The analysis grid."""
        return self.common("grid.json")

    def common_grid(self, name: str = "{name}") -> str:
        """A shared raster on the analysis grid (DEM, precipitation, optional ones)."""
        return self.common(f"grid/{name}.tif")

    def common_reach(self, name: str, reach: str = REACH) -> str:
        """A year-independent raster of a reach (clipped static raster or terrain)."""
        return self.common(f"reaches/{reach}/{name}.tif")

    def common_log(self, step: str) -> str:
        return self.common(f"logs/{step}.log")

    def common_benchmark(self, step: str) -> str:
        return self.common(f"benchmarks/{step}.tsv")

    def root_log(self, step: str) -> str:
        """A log of a step that belongs to no year and no shared layer (the sample)."""
        return f"{self.root}/logs/{step}.log"

    def root_benchmark(self, step: str) -> str:
        return f"{self.root}/benchmarks/{step}.tsv"

    # -- one survey year ------------------------------------------------------------------
    def year(self, rel: str = "", year=YEAR) -> str:
        """``<year>/<rel>`` (the year's folder without `rel`)."""
        return f"{self.root}/{year}/{rel}" if rel else f"{self.root}/{year}"

    def validation(self, name: str, year=YEAR) -> str:
        """``<year>/validation/<name>`` (report.md, report.json, landuse.json)."""
        return self.year(f"validation/{name}", year)

    def dltb(self, year=YEAR) -> str:
        """The prepared 地类图斑 of a year (format polygons)."""
        return self.year("survey/dltb.gpkg", year)

    def grid(self, name: str, year=YEAR) -> str:
        """A year's raster on the analysis grid (landuse, landuse_code, ownership)."""
        return self.year(f"grid/{name}.tif", year)

    def reach_dir(self, year=YEAR, reach=REACH) -> str:
        return self.year(f"reaches/{reach}", year)

    def reach(self, name: str, year=YEAR, reach=REACH) -> str:
        """A raster of a reach and year: clipped input, terrain layer, ``zone_<z>``."""
        return f"{self.reach_dir(year, reach)}/{name}.tif"

    def zone(self, name: str, year=YEAR, reach=REACH) -> str:
        """A zone layer of a reach (nxgeo.zones.ZONE_LAYERS)."""
        return self.reach(f"zone_{name}", year, reach)

    def official(self, kind: str, year=YEAR, reach=REACH) -> str:
        """An official 双评价 layer coded on a reach's grid."""
        return f"{self.reach_dir(year, reach)}/official/{kind}.tif"

    def suitability(self, file: str, year=YEAR, reach=REACH) -> str:
        """A file of a reach's suitability folder (with its extension)."""
        return f"{self.reach_dir(year, reach)}/suitability/{file}"

    def service(self, file: str, year=YEAR, reach=REACH) -> str:
        """A file of a reach's services folder (with its extension)."""
        return f"{self.reach_dir(year, reach)}/services/{file}"

    def reach_candidates(self, year=YEAR, reach=REACH) -> str:
        """A reach's parcels before the water allocation."""
        return f"{self.reach_dir(year, reach)}/candidates.gpkg"

    def reach_candidates_stats(self, year=YEAR, reach=REACH) -> str:
        return f"{self.reach_dir(year, reach)}/candidates_stats.json"

    def table(self, name: str, year=YEAR) -> str:
        """``<year>/tables/<name>.csv``."""
        return self.year(f"tables/{name}.csv", year)

    def candidates(self, year=YEAR) -> str:
        """The year's styled candidates (after the water allocation)."""
        return self.year("candidates.gpkg", year)

    def programme(self, year=YEAR) -> str:
        return self.year("programme.gpkg", year)

    def provenance(self, year=YEAR) -> str:
        return self.year("provenance.json", year)

    def maps(self, year=YEAR) -> str:
        """The maps folder (PNG and PDF sheets; how many depends on the data)."""
        return self.year("maps", year)

    def report(self, year=YEAR) -> str:
        return self.year("report/index.html", year)

    def report_pdf(self, year=YEAR) -> str:
        return self.year("report/report.pdf", year)

    def export(self, year=YEAR) -> str:
        """The export folder (File Geodatabase, Shapefiles, workbook)."""
        return self.year("export", year)

    def qgz(self, year=YEAR) -> str:
        return self.year(f"nxgeo_{year}.qgz", year)

    def mosaic(self, stem: str, year=YEAR) -> str:
        """A VRT mosaic of one kind of reach raster (used by the QGIS project)."""
        return self.year(f"qgis/{stem}.vrt", year)

    def log(self, step: str, year=YEAR) -> str:
        return self.year(f"logs/{step}.log", year)

    def benchmark(self, step: str, year=YEAR) -> str:
        return self.year(f"benchmarks/{step}.tsv", year)

    # -- two survey years -------------------------------------------------------------------
    def compare_dir(self, year_a=YEAR_A, year_b=YEAR_B) -> str:
        return self.year(f"compare/{year_a}_{year_b}", year_b)

    def compare(self, file: str, year_a=YEAR_A, year_b=YEAR_B) -> str:
        """A file of the comparison of `year_a` with `year_b` (under the later year)."""
        return f"{self.compare_dir(year_a, year_b)}/{file}"


def per_reach(pattern: str, reaches: Iterable[str]) -> list[str]:
    """`pattern` with ``{reach}`` filled by every reach (other wildcards kept)."""
    return [pattern.replace(REACH, str(r)) for r in reaches]


#: the folder of a file a step looks for but was not given (its rule does not declare it)
NOT_GIVEN = "(not given to the step)"


def reach_file(where, rel: str) -> Path:
    """A reach's file `rel` (``zone_county.tif``, ``suitability/best_use.tif``) in `where`: the
    files a step was given, {file stem: path} (what its rule declares: only those are opened),
    or a reach folder (a results tree outside the workflow). A stem not given is a path under
    `NOT_GIVEN`, which does not exist (an optional file is then absent, a required one is
    reported missing under that name)."""
    if isinstance(where, Mapping):
        stem = Path(rel).name.split(".", 1)[0]
        return Path(where[stem]) if stem in where else Path(NOT_GIVEN) / rel
    return Path(where) / rel


def reach_label(where) -> str:
    """The reach folder of `where` (see `reach_file`), for messages."""
    if isinstance(where, Mapping):
        files = [Path(p) for p in where.values()]
        landuse = where.get("landuse")
        return str(Path(landuse).parent if landuse else files[0].parent if files else NOT_GIVEN)
    return str(where)


def files_by_reach(paths: Iterable[str | Path], reaches: Iterable[str]) -> dict[str, dict]:
    """The files of a step's inputs grouped by the reach folder they lie in: {reach: {file
    stem: path}} (the form `reach_file` reads), in the order of `reaches`. Paths outside every
    reach folder are left out."""
    out: dict[str, dict] = {str(r): {} for r in reaches}
    for p in paths:
        parts = Path(p).parts
        for i, part in enumerate(parts[:-1]):
            if part == "reaches" and parts[i + 1] in out:
                out[parts[i + 1]][Path(p).name.split(".", 1)[0]] = str(p)
                break
    return out
