# Exports in the formats the department files (issue #15, docs/exports.md): the candidate layers
# as a File Geodatabase and as Shapefiles (UTF-8, short field names with their mapping), the
# county tables as one .xlsx workbook with Chinese headers.

from nxgeo.candidates.parcels import PATHWAYS as EXPORT_PATHWAYS


rule export:
    """results/<year>/export/: candidates.gdb, shp/<pathway>.shp + field_names.csv, tables.xlsx."""
    input:
        candidates=rules.allocate_water.output.gpkg,
        tables=[OUT.table(t) for t in config["export"]["tables"]],
    output:
        directory(OUT.export()),
    params:
        tables=list(config["export"]["tables"]),
        pathways=list(EXPORT_PATHWAYS),
        crs=config["export"]["crs"],
        version=NXGEO_VERSION,
    log:
        OUT.log("export"),
    benchmark:
        OUT.benchmark("export")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/export.py"
