# Budgeted restoration programme per year (nxgeo.programme, docs/programme.md; seed 001).


rule programme:
    """Choose the allocated candidates that maximise the objective (GEP gain or weighted
    indicators) within the year's budget and each county's water headroom: exact MILP (HiGHS)
    and the greedy baseline; re-solved at budget ±10 % for the marginal value of one more 亿元;
    cost per 亩 next to seed 001's figures."""
    input:
        candidates=rules.allocate_water.output.gpkg,
        water_balance=rules.allocate_water.output.water_balance,
    output:
        table=OUT.table("programme"),
        gpkg=OUT.programme(),
        summary=OUT.table("programme_summary"),
        marginal=OUT.table("programme_marginal"),
        reference=OUT.table("programme_vs_001"),
    params:
        programme=config["programme"],
        version=NXGEO_VERSION,
    log:
        OUT.log("programme"),
    benchmark:
        OUT.benchmark("programme")
    threads: 1
    resources:
        mem_mb=1500,
    script:
        "../scripts/programme.py"
