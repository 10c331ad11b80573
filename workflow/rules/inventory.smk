# Survey inventory: area by canonical class and by original code, per county and per reach.


rule inventory:
    """Area by canonical class, by source code and by ownership type (权属) from the grid
    rasters, per county and reach (coverage-weighted), reconciled with the zone polygons."""
    input:
        canonical=f"{RESULTS}/{{year}}/grid/landuse.tif",
        codes=f"{RESULTS}/{{year}}/grid/landuse_code.tif",
        ownership=f"{RESULTS}/{{year}}/grid/ownership.tif",
        vectors=f"{RESULTS}/common/vectors.gpkg",
        classes=CLASSES_TABLE,
        scheme_table=SCHEME_TABLE,
    output:
        by_class=f"{RESULTS}/{{year}}/tables/inventory_by_class.csv",
        by_code=f"{RESULTS}/{{year}}/tables/inventory_by_code.csv",
        reconcile=f"{RESULTS}/{{year}}/tables/inventory_reconcile.csv",
        ownership=f"{RESULTS}/{{year}}/tables/inventory_ownership.csv",
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


if LANDUSE_FORMAT == "polygons":

    rule inventory_polygons:
        """The inventory from the DLTB polygon areas (TBDLMJ / ellipsoidal; 田坎 from KCMJ): by
        三调 code, class, major group (三大类) and ownership, per county and reach, reconciled
        exactly with the polygons, and beside the raster inventory (docs/survey.md)."""
        input:
            dltb=f"{RESULTS}/{{year}}/survey/dltb.gpkg",
            vectors=f"{RESULTS}/common/vectors.gpkg",
            raster_by_class=f"{RESULTS}/{{year}}/tables/inventory_by_class.csv",
            classes=CLASSES_TABLE,
            scheme_table=SCHEME_TABLE,
        output:
            **{key: f"{RESULTS}/{{year}}/tables/inventory_polygons_{key}.csv"
               for key in POLYGON_TABLES},
        params:
            scheme=config["inputs"]["landuse"]["scheme"],
            classes_table=config["landuse"]["classes_table"],
            county_from=config["inputs"]["landuse"]["polygons"]["county_from"],
            mu_per_ha=config["landuse"].get("mu_per_ha", 15),
            version=NXGEO_VERSION,
        log:
            f"{RESULTS}/{{year}}/logs/inventory_polygons.log",
        benchmark:
            f"{RESULTS}/{{year}}/benchmarks/inventory_polygons.tsv"
        threads: 1
        resources:
            mem_mb=4000,
        script:
            "../scripts/inventory_polygons.py"


rule ownership_change:
    """The yearly change of ownership (权属) per county between two survey years: the area
    by type in both years (from the polygon inventory in format polygons, else from the
    ownership rasters) and the transitions between types (from the two ownership rasters)."""
    input:
        a=lambda wc: ownership_table_of(wc.year_a),
        b=lambda wc: ownership_table_of(wc.year_b),
        own_a=f"{RESULTS}/{{year_a}}/grid/ownership.tif",
        own_b=f"{RESULTS}/{{year_b}}/grid/ownership.tif",
        vectors=f"{RESULTS}/common/vectors.gpkg",
    output:
        csv=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/ownership_change.csv",
        transitions=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/ownership_transitions.csv",
    params:
        mu_per_ha=config["landuse"].get("mu_per_ha", 15),
        block_size=config["grid"].get("block_size", 512),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year_b}}/logs/ownership_change_{{year_a}}.log",
    benchmark:
        f"{RESULTS}/{{year_b}}/benchmarks/ownership_change_{{year_a}}.tsv"
    threads: 1
    resources:
        mem_mb=500,
    script:
        "../scripts/ownership_change.py"
