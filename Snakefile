# nxgeo — Snakemake workflow. Thin: config, validation, includes, rule all.
# Run:  snakemake --profile workflow/profiles/default            (the embedded sample)
#       snakemake --profile workflow/profiles/default --configfile config/my_region.yaml
from snakemake.utils import min_version

min_version("8.10")

import nxgeo
from nxgeo.config import check_config

if "inputs" not in config:  # no --configfile given: the embedded sample's defaults
    configfile: "config/config.yaml"

check_config(config, source="the workflow configuration")


include: "workflow/rules/common.smk"
include: "workflow/rules/sample.smk"
include: "workflow/rules/prepare.smk"


rule all:
    input:
        expand(f"{RESULTS}/{{year}}/validation/report.md", year=YEARS),
    default_target: True
