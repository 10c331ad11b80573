# County assessment scorecard (考核评价指标表, seed 000 八(四)): nxgeo.scorecard, docs/indicators.md.


rule county_scorecard:
    """One row per county: GEP and its change, forest cover, grassland vegetation cover, wetland
    protection, soil-and-water conservation (SL 190 classes), cropland kept and its balance,
    greening vs target after trades, carbon balance, candidate indicators, water headroom, the
    budgeted programme's cost and gains."""
    input:
        unpack(scorecard_compare_inputs),
        landuse=each_reach(OUT.reach("landuse")),
        counties=each_reach(OUT.zone("county")),
        protected=each_reach(OUT.zone("protected_any")),
        redline=each_reach(OUT.zone("ecological_redline")),
        erosion=each_reach(OUT.service("{n}.tif"), n=EROSION_RASTERS),
        fvc=each_reach(OUT.reach("fvc"))
            if "fvc" in STATIC_RASTERS else [],
        vectors=rules.prepare_vectors.output.gpkg,
        gep=rules.services_year.output.gep_county,
        candidates=rules.allocate_water.output.gpkg,
        water_balance=rules.allocate_water.output.water_balance,
        programme=rules.programme.output.table,
        classes=CLASSES_TABLE,
    output:
        OUT.table("county_scorecard"),
    params:
        reaches=REACHES,
        compare_from=lambda wc: (scorecard_compare(wc.year) or (None,))[0],
        scorecard=config["scorecard"],
        fvc_by_class=config["services"]["fvc_by_class"],
        mu_per_ha=config["landuse"]["mu_per_ha"],
        version=NXGEO_VERSION,
    log:
        OUT.log("county_scorecard"),
    benchmark:
        OUT.benchmark("county_scorecard")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/county_scorecard.py"
