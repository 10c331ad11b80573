"""Adapter: one official 双评价 layer coded on a reach's grid."""

from nxgeo.logs import setup_logging
from nxgeo.suitability.official import official_layer_file

setup_logging(snakemake.log[0], step=snakemake)
i, p = snakemake.input, snakemake.params
src = {"raster": i.source} if p.source == "raster" else {"vectors_gpkg": i.source}
official_layer_file(
    snakemake.wildcards.kind,
    p.values,
    i.landuse,
    snakemake.output[0],
    strip_rows=p.block_size,
    **src,
)
