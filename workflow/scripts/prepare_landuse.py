"""Adapter: one year's land use on the analysis grid (codes, canonical classes, ownership)."""

from nxgeo.logs import setup_logging
from nxgeo.parallel import for_job
from nxgeo.prepare import prepare_landuse

setup_logging(snakemake.log[0], step=snakemake)
prepare_landuse(
    snakemake.input.landuse,
    snakemake.input.grid,
    snakemake.params.scheme,
    snakemake.params.classes_table,
    snakemake.input.vectors,
    snakemake.output.codes,
    snakemake.output.canonical,
    block_size=snakemake.params.block_size,
    # the scheduler does not change the output: from the config, not a param
    dask=for_job(snakemake.config.get("dask"), snakemake.threads),
    out_ownership=snakemake.output.ownership,
    fmt=snakemake.params.format,
    ownership_src=snakemake.params.ownership,
    supersample=snakemake.params.supersample,
)
