# County assessment scorecard (考核评价指标表, seed 000 八(四)): nxgeo.scorecard, docs/indicators.md.


def scorecard_compare(year):
    """The comparison ending in `year` ((year_a, year) with the latest year_a), or None."""
    pairs = [(a, b) for a, b in COMPARE if b == int(year)]
    return max(pairs) if pairs else None


def scorecard_compare_inputs(wc):
    """The comparison tables the scorecard reads (none for a year without a comparison)."""
    pair = scorecard_compare(wc.year)
    if pair is None:
        return {}
    d = f"{RESULTS}/{pair[1]}/compare/{pair[0]}_{pair[1]}"
    return {"gep_change": f"{d}/gep_change_by_county.csv",
            "cropland": f"{d}/cropland_protection.csv",
            "greening": f"{d}/greening_ledger.csv",
            "carbon": f"{d}/carbon_balance.csv"}


rule county_scorecard:
    """One row per county: GEP and its change, forest cover, grassland vegetation cover, wetland
    protection, soil-and-water conservation (SL 190 classes), cropland kept and its balance,
    greening vs target after trades, carbon balance, candidate indicators, water headroom, the
    budgeted programme's cost and gains."""
    input:
        unpack(scorecard_compare_inputs),
        landuse=expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/landuse.tif", reach=REACHES),
        counties=expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/zone_county.tif", reach=REACHES),
        protected=expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/zone_protected_any.tif",
                         reach=REACHES),
        redline=expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/zone_ecological_redline.tif",
                       reach=REACHES),
        erosion=expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/services/{{n}}.tif",
                       reach=REACHES, n=EROSION_RASTERS),
        fvc=expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/fvc.tif", reach=REACHES)
            if "fvc" in STATIC_RASTERS else [],
        vectors=f"{RESULTS}/common/vectors.gpkg",
        gep=f"{RESULTS}/{{year}}/tables/gep_by_county.csv",
        candidates=f"{RESULTS}/{{year}}/candidates.gpkg",
        water_balance=f"{RESULTS}/{{year}}/tables/water_balance.csv",
        programme=f"{RESULTS}/{{year}}/tables/programme.csv",
        classes=CLASSES_TABLE,
    output:
        f"{RESULTS}/{{year}}/tables/county_scorecard.csv",
    params:
        reach_dir=lambda wc: f"{RESULTS}/{wc.year}/reaches",
        reaches=REACHES,
        compare_from=lambda wc: (scorecard_compare(wc.year) or (None,))[0],
        scorecard=config["scorecard"],
        fvc_by_class=config["services"]["fvc_by_class"],
        classes_table=config["landuse"]["classes_table"],
        mu_per_ha=config["landuse"].get("mu_per_ha", 15),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/county_scorecard.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/county_scorecard.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/county_scorecard.py"
