# Budgeted restoration programme per year (nxgeo.programme, docs/programme.md; seed 001).


rule programme:
    """Choose the allocated candidates that maximise the objective (GEP gain or weighted
    indicators) within the year's budget and each county's water headroom: exact MILP (HiGHS)
    and the greedy baseline; re-solved at budget ±10 % for the marginal value of one more 亿元;
    cost per 亩 next to seed 001's figures."""
    input:
        candidates=f"{RESULTS}/{{year}}/candidates.gpkg",
        water_balance=f"{RESULTS}/{{year}}/tables/water_balance.csv",
    output:
        table=f"{RESULTS}/{{year}}/tables/programme.csv",
        gpkg=f"{RESULTS}/{{year}}/programme.gpkg",
        summary=f"{RESULTS}/{{year}}/tables/programme_summary.csv",
        marginal=f"{RESULTS}/{{year}}/tables/programme_marginal.csv",
        reference=f"{RESULTS}/{{year}}/tables/programme_vs_001.csv",
    params:
        programme=config["programme"],
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/programme.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/programme.tsv"
    threads: 1
    resources:
        mem_mb=1500,
    script:
        "../scripts/programme.py"
