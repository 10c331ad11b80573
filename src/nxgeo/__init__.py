"""nxgeo — ecological survey, suitability and restoration siting for Ningxia.

The library is pure: functions on paths, arrays and frames. It never imports snakemake and
never reads a global config; the workflow passes everything in.
"""

__version__ = "0.1.0"
