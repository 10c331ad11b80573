# Comparison of two survey years; written under the later year's folder.


rule transitions:
    input:
        a=OUT.grid("landuse", year="{year_a}"),
        b=OUT.grid("landuse", year="{year_b}"),
        vectors=OUT.vectors(),
        classes=CLASSES_TABLE,
    output:
        county=OUT.compare("transitions_by_county.csv"),
        reach=OUT.compare("transitions_by_reach.csv"),
        matrix=OUT.compare("transition_matrix.csv"),
        change=OUT.compare("change.tif"),
    params:
        mu_per_ha=config["landuse"]["mu_per_ha"],
        block_size=config["grid"]["block_size"],
        version=NXGEO_VERSION,
    log:
        OUT.log("transitions_{year_a}_{year_b}", year="{year_b}"),
    benchmark:
        OUT.benchmark("transitions_{year_a}_{year_b}", year="{year_b}")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/transitions.py"


rule services_compare:
    """The change of every service and of GEP (CNY, 万元, 亿元, %) between two survey years."""
    input:
        county_a=OUT.table("services_by_county", year="{year_a}"),
        county_b=OUT.table("services_by_county", year="{year_b}"),
        reach_a=OUT.table("services_by_reach", year="{year_a}"),
        reach_b=OUT.table("services_by_reach", year="{year_b}"),
        gep_county_a=OUT.table("gep_by_county", year="{year_a}"),
        gep_county_b=OUT.table("gep_by_county", year="{year_b}"),
        gep_reach_a=OUT.table("gep_by_reach", year="{year_a}"),
        gep_reach_b=OUT.table("gep_by_reach", year="{year_b}"),
    output:
        county=OUT.compare("services_change_by_county.csv"),
        reach=OUT.compare("services_change_by_reach.csv"),
        gep_county=OUT.compare("gep_change_by_county.csv"),
        gep_reach=OUT.compare("gep_change_by_reach.csv"),
    params:
        version=NXGEO_VERSION,
    log:
        OUT.log("services_compare_{year_a}_{year_b}", year="{year_b}"),
    benchmark:
        OUT.benchmark("services_compare_{year_a}_{year_b}", year="{year_b}")
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/services_compare.py"


rule ledgers:
    """Greening ledger with trades inside the trading group, and the county carbon balance."""
    input:
        transitions=OUT.compare("transitions_by_county.csv"),
        services=OUT.compare("services_change_by_county.csv"),
        inventory=OUT.table("inventory_by_class", year="{year_b}"),
        water_capacity=OUT.table("water_capacity", year="{year_b}"),
        demand=config["inputs"]["tables"]["water_demand"],
        targets=config["inputs"]["tables"]["greening_targets"],
        emissions=config["inputs"]["tables"]["county_emissions"],
        prices=config["inputs"]["tables"]["prices"],
        validated=table_gates("water_demand", "greening_targets", "county_emissions", "prices"),
    output:
        ledger=OUT.compare("greening_ledger.csv"),
        trades=OUT.compare("greening_trades.csv"),
        carbon=OUT.compare("carbon_balance.csv"),
        carbon_trades=OUT.compare("carbon_trades.csv"),
        cropland=OUT.compare("cropland_protection.csv"),
        chart=OUT.compare("greening_ledger.png"),
    params:
        ledgers=config["ledgers"],
        landuse=config["landuse"],
        version=NXGEO_VERSION,
    log:
        OUT.log("ledgers_{year_a}_{year_b}", year="{year_b}"),
    benchmark:
        OUT.benchmark("ledgers_{year_a}_{year_b}", year="{year_b}")
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/ledgers.py"
