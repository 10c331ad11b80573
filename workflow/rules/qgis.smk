# What a GIS user opens: styles beside every raster and table of a year, and the QGIS project
# results/{year}/nxgeo_{year}.qgz (nxgeo.gis_styles, nxgeo.qgis_project; docs/qgis.md).
# Included after every rule that writes a year's rasters or tables: the files are found from
# those rules' outputs, so a new raster or table gets its style and .csvt without an edit here.
import re as _re

from snakemake.io import strip_wildcard_constraints as _plain

from nxgeo.gis_styles import sidecar_paths as _sidecars
from nxgeo.qgis_project import mosaic_stems as _mosaic_stems

_WILDCARD = _re.compile(r"\{(\w+)\}")


# rules that run only when configured (their outputs are not always made)
_OPTIONAL_RULES = {"official_disagreement": bool(OFFICIAL)}


GIS_RASTERS = _expand_reach(_year_patterns(".tif"))
GIS_TABLES = _expand_reach(_year_patterns(".csv"))
GIS_SIDECARS = [str(s) for r in GIS_RASTERS for s in _sidecars(r)]
GIS_CSVT = [t[:-4] + ".csvt" for t in GIS_TABLES]
_GRID_STEMS = [Path(r).stem for r in GIS_RASTERS if r.startswith(OUT.year("grid/"))]
GIS_MOSAICS = [OUT.mosaic(s) for s in _mosaic_stems(
    [r for r in GIS_RASTERS if "/reaches/" in r], _GRID_STEMS)]
COMPARE_RASTERS = _compare_patterns(".tif")
COMPARE_TABLES = _compare_patterns(".csv")


rule gis_compare:
    """Styles (.qml, .aux.xml) of the change raster and .csvt of the tables of a comparison."""
    input:
        rasters=COMPARE_RASTERS,
        tables=COMPARE_TABLES,
        classes=CLASSES_TABLE,
    output:
        sidecars=[str(s) for r in COMPARE_RASTERS for s in _sidecars(r)],
        csvt=[t[:-4] + ".csvt" for t in COMPARE_TABLES],
    params:
        version=NXGEO_VERSION,
    log:
        OUT.log("gis_compare_{year_a}_{year_b}", year="{year_b}"),
    benchmark:
        OUT.benchmark("gis_compare_{year_a}_{year_b}", year="{year_b}")
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/gis_compare.py"


rule qgis_project:
    """The year's QGIS project (grouped, styled, hillshade beneath), the styles beside every
    raster of the year, the VRT mosaics of the reach rasters and a .csvt beside every table."""
    input:
        rasters=GIS_RASTERS,
        tables=GIS_TABLES,
        candidates=rules.allocate_water.output.gpkg,
        vectors=rules.prepare_vectors.output.gpkg,
        dem=OUT.common_grid("dem"),
        classes=CLASSES_TABLE,
        scheme=SCHEME_TABLE,
        compare=lambda wc: _compare_files(
            [p[:-4] + ".qml" for p in COMPARE_RASTERS] + COMPARE_RASTERS, wc.year),
    output:
        qgz=OUT.qgz(),
        sidecars=GIS_SIDECARS,
        csvt=GIS_CSVT,
        mosaics=GIS_MOSAICS,
    params:
        targets=TARGETS,
        target_cfg=config["suitability"]["targets"],
        region={"region_name": config["region_name"]},
        version=NXGEO_VERSION,
    log:
        OUT.log("qgis_project"),
    benchmark:
        OUT.benchmark("qgis_project")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/qgis_project.py"
