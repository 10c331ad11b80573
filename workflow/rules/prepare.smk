# Input validation (before any compute) and, later, the analysis grid.


rule validate_inputs:
    """Check every contract item one survey year needs; fail with all problems listed."""
    input:
        unpack(lambda wc: inputs_for_year(wc.year)),
    output:
        md=f"{RESULTS}/{{year}}/validation/report.md",
        json=f"{RESULTS}/{{year}}/validation/report.json",
    params:
        config=lambda wc: config,
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/validate_inputs.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/validate_inputs.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/validate_inputs.py"
