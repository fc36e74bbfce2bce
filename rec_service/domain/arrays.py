"""Array helpers the model values and the list index share."""

from __future__ import annotations

import numpy as np


def zero_padded(array: np.ndarray, rows: int) -> np.ndarray:
    """A copy of `array` with `rows` rows (its other dimensions kept), the new rows zero."""
    bigger = np.zeros((rows, *array.shape[1:]), dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger
