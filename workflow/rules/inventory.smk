# Survey inventory: area by canonical class and by original code, per county and per reach.


rule inventory:
    input:
        canonical=f"{RESULTS}/{{year}}/grid/landuse.tif",
        codes=f"{RESULTS}/{{year}}/grid/landuse_code.tif",
        vectors=f"{RESULTS}/common/vectors.gpkg",
        classes=CLASSES_TABLE,
        scheme_table=SCHEME_TABLE,
    output:
        by_class=f"{RESULTS}/{{year}}/tables/inventory_by_class.csv",
        by_code=f"{RESULTS}/{{year}}/tables/inventory_by_code.csv",
        reconcile=f"{RESULTS}/{{year}}/tables/inventory_reconcile.csv",
    params:
        scheme=config["inputs"]["landuse"]["scheme"],
        classes_table=config["landuse"]["classes_table"],
        mu_per_ha=config["landuse"].get("mu_per_ha", 15),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/inventory.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/inventory.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/inventory.py"
