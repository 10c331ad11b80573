# Approval-ready maps, provenance and the yearly report.


rule maps:
    """Overview per pathway, one sheet per county, best use, suitability grades, land use."""
    input:
        candidates=f"{RESULTS}/{{year}}/candidates.gpkg",
        best_use=expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/suitability/best_use.tif",
                        reach=REACHES),
        landuse=f"{RESULTS}/{{year}}/grid/landuse.tif",
        vectors=f"{RESULTS}/common/vectors.gpkg",
        dem=f"{RESULTS}/common/grid/dem.tif",
        classes=CLASSES_TABLE,
    output:
        directory(f"{RESULTS}/{{year}}/maps"),
    params:
        results_dir=RESULTS,
        classes_table=config["landuse"]["classes_table"],
        subset={k: config.get(k) for k in ("region_name", "grid", "reaches", "suitability", "maps")
                if k in config},
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/maps.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/maps.tsv"
    threads: 1
    resources:
        mem_mb=3000,
    script:
        "../scripts/maps.py"


rule provenance:
    """Inputs with SHA-256, config, software versions, host, start and end of the year's run."""
    input:
        unpack(lambda wc: inputs_for_year(wc.year)),
        outputs=lambda wc: year_outputs(int(wc.year)),
        maps=f"{RESULTS}/{{year}}/maps",
    output:
        f"{RESULTS}/{{year}}/provenance.json",
    params:
        config=lambda wc: config,
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/provenance.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/provenance.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/provenance.py"


rule report:
    """One HTML page a reviewer reads: summary figures, tables, maps, validation, parameters."""
    input:
        provenance=f"{RESULTS}/{{year}}/provenance.json",
        maps=f"{RESULTS}/{{year}}/maps",
        outputs=lambda wc: year_outputs(int(wc.year)),
    output:
        f"{RESULTS}/{{year}}/report/index.html",
    params:
        results_dir=RESULTS,
        config=lambda wc: config,
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/report.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/report.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/report.py"
