"""Land-use schemes: map source codes (三调 / CLCD / CNLUCC) onto canonical classes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .nodata import CLASS_NODATA

SCHEMES = ("gbt21010", "clcd", "cnlucc")
CANONICAL_NODATA = CLASS_NODATA  # class_id 0 = no data in canonical rasters


@dataclass(frozen=True)
class Scheme:
    name: str
    table: pd.DataFrame  # code, source_code, name_zh, name_en, canonical, canonical_in_sand_area
    classes: pd.DataFrame  # class_id, canonical, name_zh, name_en, green, color

    @property
    def codes(self) -> np.ndarray:
        return self.table["code"].to_numpy(dtype=np.int64)

    def class_id(self, canonical: str) -> int:
        row = self.classes.loc[self.classes["canonical"] == canonical]
        if row.empty:
            raise KeyError(f"unknown canonical class {canonical!r}")
        return int(row["class_id"].iloc[0])

    def code_for(self, source_code: str) -> int:
        return int(self.table.loc[self.table["source_code"] == source_code, "code"].iloc[0])

    def lookup(self, in_sand_area: bool = False) -> dict[int, int]:
        """code -> canonical class id."""
        ids = dict(zip(self.classes["canonical"], self.classes["class_id"]))
        out = {}
        for code, can, alt in zip(
            self.table["code"], self.table["canonical"], self.table["canonical_in_sand_area"]
        ):
            name = alt if (in_sand_area and isinstance(alt, str) and alt) else can
            out[int(code)] = int(ids[name])
        return out

    def unknown_codes(self, values: np.ndarray, nodata=None) -> dict[int, int]:
        """{code: pixel count} for codes not in the scheme (nodata excluded)."""
        vals, counts = np.unique(np.asarray(values), return_counts=True)
        known = set(self.codes.tolist())
        out = {}
        for v, c in zip(vals.tolist(), counts.tolist()):
            if nodata is not None and v == nodata:
                continue
            if isinstance(v, float) and np.isnan(v):
                continue
            if v not in known:
                out[int(v) if float(v).is_integer() else v] = int(c)
        return out

    def to_canonical(
        self, codes: np.ndarray, nodata=None, in_sand_area: np.ndarray | None = None
    ) -> np.ndarray:
        """Vectorised code -> canonical class id (uint8, 0 = nodata). Unknown codes raise."""
        codes = np.asarray(codes)
        lut_plain = self.lookup(False)
        max_code = int(max(lut_plain)) + 1
        lut = np.zeros(max_code + 1, dtype=np.uint8)
        for k, v in lut_plain.items():
            lut[k] = v
        valid = np.ones(codes.shape, bool) if nodata is None else codes != nodata
        bad = valid & ((codes < 0) | (codes > max_code))
        idx = np.where(valid & ~bad, codes, 0).astype(np.int64)
        out = lut[idx]
        if in_sand_area is not None:
            lut_s = np.zeros_like(lut)
            for k, v in self.lookup(True).items():
                lut_s[k] = v
            out = np.where(in_sand_area, lut_s[idx], out)
        unknown = valid & (bad | (out == 0))
        if unknown.any():
            raise InputError(f"unknown land-use codes: {self.unknown_codes(codes[unknown])}")
        out[~valid] = CANONICAL_NODATA
        return out


def load_scheme(
    name: str, landuse_dir: str | Path = "config/landuse", classes_table: str | Path | None = None
) -> Scheme:
    if name not in SCHEMES:
        raise InputError(f"unknown land-use scheme {name!r}; use one of {', '.join(SCHEMES)}")
    landuse_dir = Path(landuse_dir)
    table = pd.read_csv(
        landuse_dir / f"{name}.csv",
        dtype={"source_code": str, "canonical_in_sand_area": str},
        keep_default_na=False,
    )
    classes = pd.read_csv(classes_table or landuse_dir / "classes.csv")
    missing = set(table["canonical"]) - set(classes["canonical"])
    if missing:
        raise InputError(
            f"{landuse_dir / (name + '.csv')}: canonical classes {sorted(missing)} "
            f"are not in the classes table"
        )
    return Scheme(name=name, table=table, classes=classes)
