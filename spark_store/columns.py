"""Numeric columns of a DataFrame as NumPy arrays on the driver, with no Python object per row
there: each partition packs its rows into arrays in a Python worker and sends their bytes.

DataFrame.collect() builds a Row per rating on the driver, about 200 bytes each against 8-16 in
an array: at 25M ratings that alone is several GB of driver heap for what NumPy holds in a few
hundred MB. Use this for anything sized by the ratings; collect() stays for what is sized by
users or movies.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from pyspark.sql import DataFrame


def numeric_columns(df: DataFrame, dtypes: Sequence[Any]) -> list[np.ndarray]:
    """df's columns, in order, as arrays of `dtypes`; a NULL is NaN in a float column (an
    integer column must have none)."""
    codes = [np.dtype(d).str for d in dtypes]
    if len(codes) != len(df.columns):
        raise ValueError(f"{len(df.columns)} columns, {len(codes)} dtypes")

    def pack(rows: Iterable[Any]) -> Iterator[list[bytes]]:
        columns: list[list[Any]] = [[] for _ in codes]
        for row in rows:
            for column, value in zip(columns, row, strict=True):
                column.append(np.nan if value is None else value)
        yield [np.asarray(c, dtype=code).tobytes() for c, code in zip(columns, codes, strict=True)]

    parts = df.rdd.mapPartitions(pack).collect()
    return [
        np.concatenate([np.frombuffer(p[i], dtype=code) for p in parts] or [np.empty(0, code)])
        for i, code in enumerate(codes)
    ]
