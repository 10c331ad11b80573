# Parcels from year to year (nxgeo.tracking, docs/tracking.md): the candidate diff of two
# survey years and the cumulative progress since the first survey year.


rule candidates_diff:
    """Every parcel of two years with its status: restored, in_progress, unchanged, changed,
    new, dropped (with the reason)."""
    input:
        a=OUT.candidates(year="{year_a}"),
        b=OUT.candidates(year="{year_b}"),
        landuse_a=OUT.grid("landuse", year="{year_a}"),
        landuse_b=OUT.grid("landuse", year="{year_b}"),
        classes=CLASSES_TABLE,
    output:
        gpkg=OUT.compare("candidates_diff.gpkg"),
        csv=OUT.compare("candidates_diff.csv"),
        summary=OUT.compare("candidates_diff_summary.csv"),
    params:
        tracking=config["tracking"],
        parcel_targets=config["services"]["parcel_targets"],
        mu_per_ha=config["landuse"]["mu_per_ha"],
        version=NXGEO_VERSION,
    log:
        OUT.log("candidates_diff_{year_a}_{year_b}", year="{year_b}"),
    benchmark:
        OUT.benchmark("candidates_diff_{year_a}_{year_b}", year="{year_b}")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/candidates_diff.py"


rule progress:
    """Area restored per county and pathway since the first survey year, against the greening
    target."""
    input:
        summaries=diff_summaries,
        targets=config["inputs"]["tables"]["greening_targets"],
        validated=table_gates("greening_targets"),
    output:
        OUT.table("cumulative_progress"),
    params:
        pairs=lambda wc: [[a, b] for a, b in CHAIN if b <= int(wc.year)],
        mu_per_ha=config["landuse"]["mu_per_ha"],
        version=NXGEO_VERSION,
    log:
        OUT.log("progress"),
    benchmark:
        OUT.benchmark("progress")
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/progress.py"
