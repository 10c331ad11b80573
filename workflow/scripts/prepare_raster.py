"""Adapter: one continuous raster onto the analysis grid."""

from nxgeo.logs import setup_logging
from nxgeo.parallel import for_job
from nxgeo.prepare import prepare_raster

setup_logging(snakemake.log[0], step=snakemake)
# The dask scheduler does not change the output, so it is read from the config directly
# (not a param: switching schedulers must not rerun the step).
prepare_raster(
    snakemake.input.src,
    snakemake.input.grid,
    snakemake.output[0],
    block_size=snakemake.params.block_size,
    dask=for_job(snakemake.config.get("dask"), snakemake.threads),
    categorical=snakemake.params.categorical,
)
