# Candidate parcels for the three restoration pathways, and the water allocation per year.
from nxgeo.candidates.stage import reach_rasters

# land use, survey codes, ownership, terrain, zones, suitability of a reach
CANDIDATE_RASTERS = reach_rasters(TARGETS)


rule candidates:
    """Parcels of one reach: homestead greening, mine remediation, sand control, state-owned
    waste land, land consolidation (before water)."""
    input:
        # every reach raster the step reads (nxgeo.candidates.reach_rasters), by file stem
        **{Path(rel).name: OUT.reach(rel) for rel in CANDIDATE_RASTERS},
        vectors=rules.prepare_vectors.output.gpkg,
        demand=config["inputs"]["tables"]["water_demand"],
        # the finest DEM: the slope inside every mine at its own resolution (hazard flag)
        hazard_dem=(config["pathways"]["mine_remediation"]["hazard_dem"]
                    or config["inputs"]["rasters"]["dem"]),
        classes=CLASSES_TABLE,
        validated=table_gates("water_demand"),
    output:
        gpkg=OUT.reach_candidates(),
        stats=OUT.reach_candidates_stats(),
    params:
        pathways=config["pathways"],
        suitability=config["suitability"],
        water=config["water"],
        mu_per_ha=config["landuse"]["mu_per_ha"],
        version=NXGEO_VERSION,
    log:
        OUT.log("candidates_{reach}"),
    benchmark:
        OUT.benchmark("candidates_{reach}")
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
        reaches=each_reach(rules.candidates.output.gpkg),
        vectors=rules.prepare_vectors.output.gpkg,
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
        gpkg=OUT.candidates(),
        summary=OUT.table("candidates_summary"),
        water_balance=OUT.table("water_balance"),
        gains=OUT.table("candidates_service_gains"),
        pathways=OUT.table("candidates_pathways"),
    params:
        water=config["water"],
        pathways=config["pathways"],
        tracking=config["tracking"],
        stability=config["stability"],
        services=config["services"],
        s_method=config["terrain"]["s_method"],
        version=NXGEO_VERSION,
    log:
        OUT.log("allocate_water"),
    benchmark:
        OUT.benchmark("allocate_water")
    threads: 1
    resources:
        mem_mb=3000,
    script:
        "../scripts/allocate_water.py"
