# nxgeo — Snakemake workflow. Thin: config, validation, includes, rule all.
# Run:  snakemake --profile workflow/profiles/default            (the embedded sample)
#       snakemake --profile workflow/profiles/default --configfile config/my_region.yaml
from snakemake.utils import min_version

min_version("8.10")

# `snakemake --lint` is clean but for one item on every rule, kept on purpose:
#   "Specify a conda environment or container for each rule."
# Every rule runs in the one environment of the package (pyproject.toml; `make run` builds
# .venv/, CI the same): the library is one Python package whose steps share its dependencies
# (GDAL through rasterio/pyogrio), so an environment per rule would only repeat it and let the
# rules drift apart.

import nxgeo
from nxgeo.config import check_config, check_config_files
from nxgeo.workflow_fixes import coalesce_reevaluation

# Snakemake's scheduler wakes itself up in timer chains that add up with every finished job
# (~45 idle rounds a second, each looking at every input of every waiting job): at most one
# wake-up pending instead. Same jobs, same files; see nxgeo/workflow_fixes.py.
try:
    from snakemake.scheduling.job_scheduler import JobScheduler

    _fix = coalesce_reevaluation(JobScheduler)
except ImportError as _exc:  # another layout of Snakemake: nothing to fix there
    _fix = f"not patched: {_exc}"
if _fix.startswith("not patched"):
    from snakemake.logging import logger

    logger.info(f"nxgeo: Snakemake's scheduler fix {_fix} (docs/scaling.md)")

if "inputs" not in config:  # no --configfile given: the embedded sample's defaults
    configfile: "config/config.yaml"

# A config is data: every file is read again strictly (no templating, tags or duplicate keys;
# nxgeo.yamlguard refuses them even before Snakemake's own reading), then checked whole and
# completed: every key the user left out takes its default from the schema
# (workflow/schemas/config.schema.yaml), so the rules read config["section"]["key"].
check_config_files(workflow.configfiles)
config.update(check_config(config, source="the workflow configuration"))


include: "workflow/rules/common.smk"
include: "workflow/rules/sample.smk"
include: "workflow/rules/prepare.smk"
include: "workflow/rules/terrain.smk"
include: "workflow/rules/inventory.smk"
include: "workflow/rules/suitability.smk"
include: "workflow/rules/services.smk"
include: "workflow/rules/candidates.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/programme.smk"
include: "workflow/rules/tracking.smk"
include: "workflow/rules/scorecard.smk"
include: "workflow/rules/export.smk"
include: "workflow/rules/qgis.smk"  # after every rule writing a year's rasters and tables
include: "workflow/rules/safety.smk"  # last: it flags the outputs of every rule above


# One run at a time per results folder; leftovers of an interrupted run put back or removed
# (workflow/rules/safety.smk)
onstart:
    from nxgeo.atomic import sweep_temp
    from nxgeo.errors import OutputError
    from nxgeo.runlock import acquire

    try:
        acquire(RESULTS, what=f"years {', '.join(map(str, YEARS))}")
    except OutputError as exc:
        raise WorkflowError(str(exc)) from None
    for p in restore_kept(RESULTS):
        print(f"restored the previous version of {p} (an interrupted run had moved it aside)")
    # a killed run (SIGKILL) cannot clean up: remove its temporary files before resuming
    for p in sweep_temp(RESULTS):
        print(f"removed a temporary file left by an interrupted run: {p}")


rule all:
    input:
        OUT.common_validation("report.md"),
        expand(OUT.validation("report.md"), year=YEARS),
        expand(OUT.reach("{layer}"), year=YEARS, reach=REACHES,
               layer=REACH_LAYERS),
        expand(OUT.reach("{layer}"), year=YEARS, reach=REACHES,
               layer=TERRAIN_LAYERS),
        expand(OUT.suitability("best_use.tif"), year=YEARS,
               reach=REACHES),
        expand(OUT.table("inventory_by_class"), year=YEARS),
        expand(OUT.table("water_capacity"), year=YEARS),
        expand(OUT.table("services_by_county"), year=YEARS),
        expand(OUT.candidates(), year=YEARS),
        expand(OUT.table("programme"), year=YEARS),
        expand(OUT.programme(), year=YEARS),
        expand(OUT.report(), year=YEARS),
        # the PDF needs headless Chromium (report.smk: without it the HTML only)
        expand(OUT.report_pdf(), year=YEARS) if REPORT_CHROMIUM else [],
        expand(OUT.export(), year=YEARS),
        # the department's own 双评价 layers, when supplied: computed vs official
        expand(OUT.table("official_disagreement"),
               year=YEARS if OFFICIAL else []),
        expand(OUT.qgz(), year=YEARS),
        [OUT.compare("transition_matrix.csv", year_a=a, year_b=b) for a, b in COMPARE],
        [OUT.compare("greening_ledger.csv", year_a=a, year_b=b) for a, b in COMPARE],
        [OUT.compare("candidates_diff.csv", year_a=a, year_b=b) for a, b in DIFF_PAIRS],
        expand(OUT.table("cumulative_progress"), year=YEARS),
    default_target: True
