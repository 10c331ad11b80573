# Parcels from year to year (nxgeo.tracking, docs/tracking.md): the candidate diff of two
# survey years and the cumulative progress since the first survey year.


def diff_summaries(wc):
    return [f"{RESULTS}/{b}/compare/{a}_{b}/candidates_diff_summary.csv"
            for a, b in CHAIN if b <= int(wc.year)]


rule candidates_diff:
    """Every parcel of two years with its status: restored, in_progress, unchanged, changed,
    new, dropped (with the reason)."""
    input:
        a=f"{RESULTS}/{{year_a}}/candidates.gpkg",
        b=f"{RESULTS}/{{year_b}}/candidates.gpkg",
        landuse_a=f"{RESULTS}/{{year_a}}/grid/landuse.tif",
        landuse_b=f"{RESULTS}/{{year_b}}/grid/landuse.tif",
        classes=CLASSES_TABLE,
    output:
        gpkg=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/candidates_diff.gpkg",
        csv=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/candidates_diff.csv",
        summary=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/candidates_diff_summary.csv",
    params:
        tracking=config["tracking"],
        parcel_targets=config["services"]["parcel_targets"],
        classes_table=config["landuse"]["classes_table"],
        mu_per_ha=config["landuse"]["mu_per_ha"],
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year_b}}/logs/candidates_diff_{{year_a}}_{{year_b}}.log",
    benchmark:
        f"{RESULTS}/{{year_b}}/benchmarks/candidates_diff_{{year_a}}_{{year_b}}.tsv"
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
        f"{RESULTS}/{{year}}/tables/cumulative_progress.csv",
    params:
        pairs=lambda wc: [[a, b] for a, b in CHAIN if b <= int(wc.year)],
        mu_per_ha=config["landuse"]["mu_per_ha"],
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/progress.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/progress.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/progress.py"
