"""Small array helpers shared by the core: dtype policy and argument checks.

The policy follows PyTorch's: float32 input stays float32, everything else
(ints, bools, Python numbers, float64) is computed in float64.
"""

import numpy as np


def as_float(x, name="x"):
    """Return ``x`` as a float array: float32 kept, anything else float64.

    Raises ``TypeError`` naming ``name`` when ``x`` is not numeric.
    """
    try:
        arr = np.asarray(x)
    except ValueError:  # ragged nested lists: NumPy's own message does not say which argument
        raise ValueError(f"{name} must be a number or a rectangular array of numbers (rows of equal length)") from None
    if arr.dtype == np.float32 or arr.dtype == np.float64:
        return arr
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a number or a numeric array, got dtype {arr.dtype}")
    return arr.astype(np.float64)


def scalar_or_array(out):
    """Unwrap a 0-d array to a NumPy scalar, so scalar inputs give scalar outputs."""
    return out[()] if isinstance(out, np.ndarray) and out.ndim == 0 else out


def check_reduction(reduction):
    """Raise ``ValueError`` unless ``reduction`` is one of PyTorch's three."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def reduce(loss, reduction):
    """Apply a PyTorch-style ``reduction`` to per-element losses."""
    check_reduction(reduction)
    if reduction == "none":
        return scalar_or_array(loss)
    if reduction == "mean" and loss.size == 0:  # PyTorch: nan, without NumPy's "mean of empty slice" warning
        return loss.dtype.type(np.nan)
    return loss.mean()[()] if reduction == "mean" else loss.sum()[()]


def upstream(dout, z):
    """Return ``dout`` as a float array, checking it is a scalar or has ``z``'s shape.

    Raises ``ValueError`` naming ``dout`` on a shape mismatch (which NumPy
    would otherwise broadcast silently into a wrong gradient).
    """
    dout = as_float(dout, "dout")
    if dout.ndim == 0:
        return float(dout)  # a Python float keeps float32 z float32 (NumPy's weak scalars)
    if dout.shape != z.shape:
        raise ValueError(f"dout must have z's shape {z.shape} (or be a scalar), got {dout.shape}")
    return dout


def same_shape(a, b, name_a, name_b):
    """Raise ``ValueError`` naming both arguments when their shapes differ."""
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")
