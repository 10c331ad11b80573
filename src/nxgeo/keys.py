"""One normalisation of every key that validation and processing both read.

County codes (adcode) and coded field values (homestead / mine status, protected-area zone,
the mines' legacy flag) reach nxgeo in many spellings: a Shapefile's Real field gives
``640105.0`` (a float), a GeoPackage ``640105`` (an int), a hand-edited table ``"640105 "``.
Validation and every processing step call the functions here, so what validation accepts is
exactly what processing reads, and a value validation would refuse stops processing with the
same message instead of being read differently (or silently dropped).

Rules
- adcode: a whole number of 6 digits (``640105``, ``640105.0`` as a *number*), or text of
  6 digits with blanks around it ignored (``" 640105 "``). Text such as ``"640105.0"`` or
  ``"6.40105E+05"`` is refused: that is a spreadsheet that turned the code into a number, and
  the fix is to store the column as text.
- coded values (`VOCABULARY`): blanks around the value and letter case are ignored
  (``" Idle"`` -> ``idle``), and the Chinese terms of `CHINESE_SYNONYMS` are recoded
  (``废弃`` -> ``abandoned``); anything else is refused, naming the values and the allowed ones.
- yes/no flags: true/false, yes/no, y/n, t/f, 1/0, 是/否 (any case) -> ``"true"`` / ``"false"``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .errors import InputError

ADCODE_RE = re.compile(r"^[0-9]{6}$")
# blanks a value may carry around it: ASCII whitespace, no-break and ideographic spaces
_BLANKS = " \t\r\n\u00a0\u3000\ufeff"

#: allowed values per (contract item, field role)
VOCABULARY: dict[tuple[str, str], tuple[str, ...]] = {
    ("homesteads", "status"): ("idle", "occupied", "demolished"),
    ("mines", "status"): ("abandoned", "closed", "operating"),
    ("protected_areas", "zone"): ("core", "buffer", "experimental"),
}
#: Chinese terms a survey layer is likely to hold, and the value they mean
CHINESE_SYNONYMS: dict[str, str] = {
    "核心区": "core",
    "缓冲区": "buffer",
    "实验区": "experimental",
    "闲置": "idle",
    "空闲": "idle",
    "在用": "occupied",
    "使用": "occupied",
    "使用中": "occupied",
    "已拆除": "demolished",
    "拆除": "demolished",
    "拆旧": "demolished",
    "废弃": "abandoned",
    "关闭": "closed",
    "关停": "closed",
    "闭坑": "closed",
    "生产": "operating",
    "在产": "operating",
    "开采": "operating",
}
#: roles holding a yes/no flag
BOOLEAN_ROLES = {("mines", "legacy")}
TRUE_WORDS = {"true", "yes", "y", "t", "1", "1.0", "是"}
FALSE_WORDS = {"false", "no", "n", "f", "0", "0.0", "否"}


def is_missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, (float, np.floating)):
        return math.isnan(float(v))
    return False


def _series(values) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    return pd.Series(list(values) if not isinstance(values, np.ndarray) else values, dtype=object)


def adcode_or_none(v) -> str | None:
    """The canonical adcode text of one value, or None when it is not a 6-digit code
    (missing values included)."""
    if is_missing(v) or isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, np.integer)):
        text = str(int(v))
    elif isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f) or not f.is_integer():
            return None
        text = str(int(f))
    else:
        text = str(v).strip(_BLANKS)
    return text if ADCODE_RE.match(text) else None


def value_counts_text(values: Iterable, n: int = 6) -> str:
    """`'a' (2×), <empty> (1×)`: the most frequent values with their counts."""
    counts = Counter("<empty>" if is_missing(v) else repr(v) for v in values)
    parts = [f"{v} ({c}×)" for v, c in counts.most_common(n)]
    more = f" … ({len(counts) - n} more)" if len(counts) > n else ""
    return ", ".join(parts) + more


def invalid_adcodes(values) -> list:
    """The values (as given) that are not 6-digit county codes, in order."""
    return [v for v in _series(values).tolist() if adcode_or_none(v) is None]


def normalize_adcode(values, where: str = "county codes", allow_missing: bool = False) -> pd.Series:
    """County codes as 6-digit text (object dtype; the index of a Series is kept).

    Raises `InputError` naming `where` (file, layer, field), the values that are not 6-digit
    codes and what to do. With `allow_missing`, missing values stay None instead.
    """
    s = _series(values)
    out = s.map(adcode_or_none).astype(object)
    bad = out.isna()
    if allow_missing:
        bad &= ~s.map(is_missing).astype(bool)
    if bad.any():
        raise InputError(
            f"{where}: {int(bad.sum())} value(s) are not 6-digit county codes (adcode, e.g. "
            f"640104): {value_counts_text(s[bad].tolist())}. Fix the codes; if a spreadsheet "
            "turned them into numbers (640104.0, 6.40104E+05), store the column as text."
        )
    return out.where(~out.isna(), None)


def adcode_text(values) -> pd.Series:
    """County codes as text for joining tables, leniently: what `normalize_adcode` gives for a
    valid code (640104, 640104.0, " 640104 " -> "640104"), and any other value kept as its text
    without blanks around it and without a trailing ".0" (a zone id that is not a county, an
    unusual code in a hand-made table), never an error. For tables whose codes validation has
    checked already (and the counties layer of the prepared vectors); `normalize_adcode` is the
    check itself."""
    s = pd.Series(values)
    if s.dtype.kind == "f":
        s = s.astype("Int64")
    return s.astype(str).str.strip().str.replace(r"\.0$", "", regex=True)


def adcode_ints(values, where: str = "county codes") -> np.ndarray:
    """County codes as int64 (for rasters of county codes), through `normalize_adcode`."""
    return normalize_adcode(values, where).astype(np.int64).to_numpy()


def id_text(v) -> str | None:
    """A feature id as text: 12 / 12.0 -> '12', ' M1 ' -> 'M1'; None when missing."""
    if is_missing(v):
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    return str(v).strip(_BLANKS)


def value_key(v) -> str | None:
    """A coded value's comparison form: blanks around it removed, lower case; None if empty."""
    if is_missing(v):
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        v = int(v)
    text = str(v).strip(_BLANKS)
    return text.casefold() if text else None


def coded_value(v, allowed: Iterable[str]) -> str | None:
    """The allowed value `v` stands for (case, blanks, Chinese synonyms), or None."""
    allowed = tuple(allowed)
    k = value_key(v)
    if k is None:
        return None
    if k in allowed:
        return k
    syn = CHINESE_SYNONYMS.get(k)
    return syn if syn in allowed else None


def recodings(values, allowed: Iterable[str]) -> dict[str, str]:
    """{value as given: value it is read as} for the values that are not already canonical."""
    allowed = tuple(allowed)
    out: dict[str, str] = {}
    for v in _series(values).tolist():
        c = coded_value(v, allowed)
        if c is not None and v != c:
            out[str(v)] = c
    return out


def normalize_status(
    values, allowed: Iterable[str], where: str = "values", allow_missing: bool = False
) -> pd.Series:
    """Coded values (status, zone) as their canonical spelling (object dtype, index kept).

    Raises `InputError` naming `where`, the values that are not allowed, the allowed ones and
    the recoding of any Chinese term it knows.
    """
    allowed = tuple(allowed)
    s = _series(values)
    out = s.map(lambda v: coded_value(v, allowed)).astype(object)
    bad = out.isna()
    if allow_missing:
        bad &= ~s.map(lambda v: value_key(v) is None).astype(bool)
    if bad.any():
        raise InputError(f"{where}: {status_problem(s[bad].tolist(), allowed)}")
    return out.where(~out.isna(), None)


def status_problem(bad: list, allowed: tuple[str, ...]) -> str:
    """The message for values that are not allowed (shared with validation)."""
    return (
        f"{len(bad)} value(s) not allowed: {value_counts_text(bad)}; use one of "
        f"{', '.join(allowed)} (letter case and blanks around the value do not matter; the "
        f"Chinese terms {', '.join(k for k, v in CHINESE_SYNONYMS.items() if v in allowed)} "
        "are recoded). Recode them in your GIS (field calculator)."
    )


def flag_value(v) -> str | None:
    """A yes/no value as "true" / "false"; None if missing or not a yes/no word."""
    k = value_key(v)
    if k is None:
        return None
    if k in TRUE_WORDS:
        return "true"
    if k in FALSE_WORDS:
        return "false"
    return None


def normalize_flag(values, where: str = "values") -> pd.Series:
    """Yes/no values as "true" / "false" (missing stays None); other values are an error."""
    s = _series(values)
    out = s.map(flag_value).astype(object)
    bad = out.isna() & ~s.map(lambda v: value_key(v) is None).astype(bool)
    if bad.any():
        raise InputError(
            f"{where}: {int(bad.sum())} value(s) are not yes/no (true/false, 1/0, "
            f"是/否): {value_counts_text(s[bad].tolist())}; recode them."
        )
    return out.where(~out.isna(), None)


def normalize_fields(
    gdf: pd.DataFrame, item: str, name: str, fields: dict | None = None
) -> pd.DataFrame:
    """The standardised fields of one prepared layer (roles id, status, zone) through the
    normalisers: the counties' ids as adcodes, coded values in their canonical spelling, other
    ids as trimmed text (`id_text`). The yes/no `legacy` flag is kept as given (no step
    interprets it). `item` is the contract item (e.g. ``mines``), `name` names the layer and
    `fields` (role -> the user's field name) the fields in messages. Returns a copy."""
    fields = fields or {}
    out = gdf.copy()

    def where(role: str) -> str:
        return f"{name}: field {fields.get(role, role)!r} ({role})"

    if "id" in out.columns:
        if item == "counties":
            out["id"] = normalize_adcode(out["id"], where("id")).to_numpy()
        else:
            out["id"] = [id_text(v) for v in out["id"]]
    for role in ("status", "zone"):
        allowed = VOCABULARY.get((item, role))
        if allowed and role in out.columns:
            out[role] = normalize_status(out[role], allowed, where(role)).to_numpy()
    return out


__all__ = [
    "ADCODE_RE",
    "BOOLEAN_ROLES",
    "CHINESE_SYNONYMS",
    "VOCABULARY",
    "adcode_ints",
    "adcode_or_none",
    "coded_value",
    "flag_value",
    "id_text",
    "invalid_adcodes",
    "normalize_adcode",
    "normalize_fields",
    "normalize_flag",
    "normalize_status",
    "recodings",
    "value_key",
]
