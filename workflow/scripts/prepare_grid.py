"""Adapter: define the analysis grid and put the continuous rasters on it."""
from nxgeo.logs import setup_logging
from nxgeo.parallel import for_job
from nxgeo.prepare import prepare_rasters

setup_logging(snakemake.log[0], step=snakemake)
# The dask scheduler does not change the output, so it is read from the config directly
# (not a param: switching schedulers must not rerun the step).
prepare_rasters(snakemake.params.rasters, snakemake.params.counties, snakemake.params.grid,
                snakemake.params.out_dir, snakemake.output.grid,
                dask=for_job(snakemake.config.get("dask"), snakemake.threads))
