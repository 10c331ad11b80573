# Approval-ready maps, provenance and the yearly report.

# The county-names table (English names in the map subtitles) is optional: without it the
# counties layer's name_en, else the code.
COUNTY_NAMES = ({"county_names": config["inputs"]["tables"]["county_names"]}
                if "county_names" in config["inputs"]["tables"] else {})


rule maps:
    """Overview per pathway, one sheet per county (detail sheets where dense), best use,
    suitability grades, land use."""
    input:
        candidates=rules.allocate_water.output.gpkg,
        best_use=each_reach(OUT.suitability("best_use.tif")),
        # the legend of the first reach (every reach writes the same)
        best_use_legend=OUT.suitability("best_use_legend.csv", reach=REACHES[0]),
        # one grade map per target
        **{f"grade_{t}": each_reach(OUT.suitability(f"suit_{t}_grade.tif")) for t in TARGETS},
        landuse=OUT.grid("landuse"),
        vectors=rules.prepare_vectors.output.gpkg,
        grid=rules.prepare_grid.output.grid,
        dem=OUT.common_grid("dem"),
        classes=CLASSES_TABLE,
        **COUNTY_NAMES,
        validated=table_gates(*COUNTY_NAMES),
    output:
        directory(OUT.maps()),
    params:
        targets=TARGETS,
        subset={k: config[k] for k in ("region_name", "grid", "reaches", "suitability",
                                       "pathways")},
        version=NXGEO_VERSION,
    log:
        OUT.log("maps"),
    benchmark:
        OUT.benchmark("maps")
    threads: 2   # sheets are drawn in parallel processes (same files with any number)
    resources:
        mem_mb=3000,
    script:
        "../scripts/maps.py"


rule provenance:
    """Inputs with SHA-256, config, software versions, host, start and end of the year's run."""
    input:
        unpack(lambda wc: inputs_for_year(wc.year)),
        outputs=lambda wc: year_outputs(int(wc.year)),
        maps=OUT.maps(),
    output:
        OUT.provenance(),
    params:
        config=lambda wc: config,
        version=NXGEO_VERSION,
    log:
        OUT.log("provenance"),
    benchmark:
        OUT.benchmark("provenance")
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/provenance.py"


# Headless Chromium prints the report to PDF (rule report_pdf); without it the HTML is complete
# and `rule all` asks for no PDF (the report's log says so).
import shutil as _shutil

REPORT_CHROMIUM = next((_shutil.which(n) for n in ("chromium", "chromium-browser",
                                                    "google-chrome") if _shutil.which(n)), None)


rule report:
    """One HTML page a reviewer reads: scorecard, GEP, candidates, changes, ledgers, water,
    inventory, maps, placeholders, validation, parameters, provenance (docs/report.md)."""
    input:
        unpack(report_inputs),
        validated=table_gates(*config["inputs"]["tables"]),
    output:
        OUT.report(),
    params:
        config=lambda wc: config,
        chromium=REPORT_CHROMIUM,
        version=NXGEO_VERSION,
    log:
        OUT.log("report"),
    benchmark:
        OUT.benchmark("report")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/report.py"


rule report_pdf:
    """The report printed to PDF (A4 landscape) by headless Chromium."""
    input:
        rules.report.output[0],
    output:
        OUT.report_pdf(),
    params:
        chromium=REPORT_CHROMIUM,
        version=NXGEO_VERSION,
    log:
        OUT.log("report_pdf"),
    benchmark:
        OUT.benchmark("report_pdf")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/report_pdf.py"
