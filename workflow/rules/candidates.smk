# Candidate parcels for the three restoration pathways, and the water allocation per year.


rule candidates:
    """Parcels of one reach: homestead greening, mine remediation, sand control, state-owned
    waste land, land consolidation (before water)."""
    input:
        suitability=f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/best_use.tif",
        terrain=f"{RESULTS}/{{year}}/reaches/{{reach}}/slope.tif",
        zones=f"{RESULTS}/{{year}}/reaches/{{reach}}/zone_county.tif",
        # survey codes: the codes of state-owned waste land (pathways.state_wasteland) and the
        # field ridges (三调 1203) of land consolidation
        landuse_code=f"{RESULTS}/{{year}}/reaches/{{reach}}/landuse_code.tif",
        # ownership (1 state-owned, 2 collective, 0 unknown): state-owned waste land
        ownership=f"{RESULTS}/{{year}}/reaches/{{reach}}/ownership.tif",
        vectors=f"{RESULTS}/common/vectors.gpkg",
        demand=config["inputs"]["tables"]["water_demand"],
        # the finest DEM: the slope inside every mine at its own resolution (hazard flag)
        hazard_dem=(config["pathways"]["mine_remediation"]["hazard_dem"]
                    or config["inputs"]["rasters"]["dem"]),
        classes=CLASSES_TABLE,
        validated=table_gates("water_demand"),
    output:
        gpkg=f"{RESULTS}/{{year}}/reaches/{{reach}}/candidates.gpkg",
        stats=f"{RESULTS}/{{year}}/reaches/{{reach}}/candidates_stats.json",
    params:
        pathways=config["pathways"],
        suitability=config["suitability"],
        water=config["water"],
        classes_table=config["landuse"]["classes_table"],
        mu_per_ha=config["landuse"].get("mu_per_ha", 15),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/candidates_{{reach}}.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/candidates_{{reach}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
    script:
        "../scripts/candidates.py"


rule allocate_water:
    """Gather all reaches; candidates compete for each county's water headroom; rank; cost
    (unit-cost table); write the styled candidates.gpkg, the summary by county and pathway,
    and the water balance."""
    input:
        reaches=expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/candidates.gpkg", reach=REACHES),
        vectors=f"{RESULTS}/common/vectors.gpkg",
        budgets=config["inputs"]["tables"]["water_budgets"],
        demand=config["inputs"]["tables"]["water_demand"],
        carbon=config["inputs"]["tables"]["carbon_pools"],
        prices=config["inputs"]["tables"]["prices"],
        coefficients=config["inputs"]["tables"]["gep_coefficients"],
        unit_costs=config["inputs"]["tables"]["unit_costs"],
        classes=CLASSES_TABLE,
        validated=table_gates("water_budgets", "water_demand", "carbon_pools", "prices",
                              "gep_coefficients", "unit_costs"),
        # the previous survey year's parcels: their ids are carried by overlap (nxgeo.tracking)
        previous=previous_candidates,
    output:
        gpkg=f"{RESULTS}/{{year}}/candidates.gpkg",
        summary=f"{RESULTS}/{{year}}/tables/candidates_summary.csv",
        water_balance=f"{RESULTS}/{{year}}/tables/water_balance.csv",
        gains=f"{RESULTS}/{{year}}/tables/candidates_service_gains.csv",
        pathways=f"{RESULTS}/{{year}}/tables/candidates_pathways.csv",
    params:
        water=config["water"],
        pathways=config["pathways"],
        tracking=config["tracking"],
        stability=config["stability"],
        services=config["services"],
        s_method=config.get("terrain", {}).get("s_method", "invest"),
        classes_table=config["landuse"]["classes_table"],
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/allocate_water.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/allocate_water.tsv"
    threads: 1
    resources:
        mem_mb=3000,
    script:
        "../scripts/allocate_water.py"
