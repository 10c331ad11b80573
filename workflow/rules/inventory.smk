# Survey inventory: area by canonical class and by original code, per county and per reach.


rule inventory:
    """Area by canonical class, by source code and by ownership type (权属) from the grid
    rasters, per county and reach (coverage-weighted), reconciled with the zone polygons."""
    input:
        canonical=rules.prepare_landuse.output.canonical,
        codes=rules.prepare_landuse.output.codes,
        ownership=rules.prepare_landuse.output.ownership,
        vectors=rules.prepare_vectors.output.gpkg,
        classes=CLASSES_TABLE,
        scheme_table=SCHEME_TABLE,
    output:
        by_class=OUT.table("inventory_by_class"),
        by_code=OUT.table("inventory_by_code"),
        reconcile=OUT.table("inventory_reconcile"),
        ownership=OUT.table("inventory_ownership"),
    params:
        scheme=config["inputs"]["landuse"]["scheme"],
        mu_per_ha=config["landuse"]["mu_per_ha"],
        version=NXGEO_VERSION,
    log:
        OUT.log("inventory"),
    benchmark:
        OUT.benchmark("inventory")
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
            dltb=rules.prepare_dltb.output.gpkg,
            vectors=rules.prepare_vectors.output.gpkg,
            raster_by_class=rules.inventory.output.by_class,
            classes=CLASSES_TABLE,
            scheme_table=SCHEME_TABLE,
        output:
            **{key: OUT.table(f"inventory_polygons_{key}")
               for key in POLYGON_TABLES},
        params:
            scheme=config["inputs"]["landuse"]["scheme"],
            county_from=config["inputs"]["landuse"]["polygons"]["county_from"],
            mu_per_ha=config["landuse"]["mu_per_ha"],
            version=NXGEO_VERSION,
        log:
            OUT.log("inventory_polygons"),
        benchmark:
            OUT.benchmark("inventory_polygons")
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
        own_a=OUT.grid("ownership", year="{year_a}"),
        own_b=OUT.grid("ownership", year="{year_b}"),
        vectors=OUT.vectors(),
    output:
        csv=OUT.compare("ownership_change.csv"),
        transitions=OUT.compare("ownership_transitions.csv"),
    params:
        mu_per_ha=config["landuse"]["mu_per_ha"],
        block_size=config["grid"]["block_size"],
        version=NXGEO_VERSION,
    log:
        OUT.log("ownership_change_{year_a}", year="{year_b}"),
    benchmark:
        OUT.benchmark("ownership_change_{year_a}", year="{year_b}")
    threads: 1
    resources:
        mem_mb=500,
    script:
        "../scripts/ownership_change.py"
