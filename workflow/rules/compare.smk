# Comparison of two survey years; written under the later year's folder.


rule transitions:
    input:
        a=f"{RESULTS}/{{year_a}}/grid/landuse.tif",
        b=f"{RESULTS}/{{year_b}}/grid/landuse.tif",
        vectors=f"{RESULTS}/common/vectors.gpkg",
        classes=CLASSES_TABLE,
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


rule services_compare:
    """The change of every service and of GEP (CNY, 万元, 亿元, %) between two survey years."""
    input:
        county_a=f"{RESULTS}/{{year_a}}/tables/services_by_county.csv",
        county_b=f"{RESULTS}/{{year_b}}/tables/services_by_county.csv",
        reach_a=f"{RESULTS}/{{year_a}}/tables/services_by_reach.csv",
        reach_b=f"{RESULTS}/{{year_b}}/tables/services_by_reach.csv",
        gep_county_a=f"{RESULTS}/{{year_a}}/tables/gep_by_county.csv",
        gep_county_b=f"{RESULTS}/{{year_b}}/tables/gep_by_county.csv",
        gep_reach_a=f"{RESULTS}/{{year_a}}/tables/gep_by_reach.csv",
        gep_reach_b=f"{RESULTS}/{{year_b}}/tables/gep_by_reach.csv",
    output:
        county=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/services_change_by_county.csv",
        reach=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/services_change_by_reach.csv",
        gep_county=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/gep_change_by_county.csv",
        gep_reach=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/gep_change_by_reach.csv",
    params:
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year_b}}/logs/services_compare_{{year_a}}_{{year_b}}.log",
    benchmark:
        f"{RESULTS}/{{year_b}}/benchmarks/services_compare_{{year_a}}_{{year_b}}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/services_compare.py"


rule ledgers:
    """Greening ledger with trades inside the trading group, and the county carbon balance."""
    input:
        transitions=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/transitions_by_county.csv",
        services=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/services_change_by_county.csv",
        inventory=f"{RESULTS}/{{year_b}}/tables/inventory_by_class.csv",
        water_capacity=f"{RESULTS}/{{year_b}}/tables/water_capacity.csv",
        demand=config["inputs"]["tables"]["water_demand"],
        targets=config["inputs"]["tables"]["greening_targets"],
        emissions=config["inputs"]["tables"]["county_emissions"],
        prices=config["inputs"]["tables"]["prices"],
        validated=table_gates("water_demand", "greening_targets", "county_emissions", "prices"),
    output:
        ledger=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/greening_ledger.csv",
        trades=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/greening_trades.csv",
        carbon=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/carbon_balance.csv",
        carbon_trades=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/carbon_trades.csv",
        cropland=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/cropland_protection.csv",
        chart=f"{RESULTS}/{{year_b}}/compare/{{year_a}}_{{year_b}}/greening_ledger.png",
    params:
        ledgers=config["ledgers"],
        landuse=config["landuse"],
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year_b}}/logs/ledgers_{{year_a}}_{{year_b}}.log",
    benchmark:
        f"{RESULTS}/{{year_b}}/benchmarks/ledgers_{{year_a}}_{{year_b}}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/ledgers.py"
