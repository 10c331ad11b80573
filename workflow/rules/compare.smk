# Comparison of two survey years; written under the later year's folder.


rule transitions:
    input:
        a=f"{RESULTS}/{{year_a}}/grid/landuse.tif",
        b=f"{RESULTS}/{{year_b}}/grid/landuse.tif",
        vectors=f"{RESULTS}/common/vectors.gpkg",
    output:
        county=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/transitions_by_county.csv",
        reach=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/transitions_by_reach.csv",
        matrix=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/transition_matrix.csv",
        change=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/change.tif",
    params:
        classes_table=config["landuse"]["classes_table"],
        mu_per_ha=config["landuse"].get("mu_per_ha", 15),
        block_size=config["grid"].get("block_size", 512),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year_b}}/logs/transitions_{{year_a}}_{{year_b}}.log",
    benchmark:
        f"{RESULTS}/{{year_b}}/benchmarks/transitions_{{year_a}}_{{year_b}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/transitions.py"
