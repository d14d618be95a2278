"""``nnbasics bench core``: one training step of a 2-layer MLP in nnbasics against the same step in PyTorch CPU.

The step is Linear(512 -> 512) -> ReLU -> Linear(512 -> 10) -> softmax
cross-entropy (mean) on a batch of 256, in float64: the forward pass, the loss
and the gradients of all four parameters (``nnbasics.two_layer_grads``; in
PyTorch ``loss.backward()`` on leaf tensors). Both run in this one process on
the same data, in alternating blocks so that both see the same machine load;
each figure is the median over every timed step after a warm-up. PyTorch is
optional: without it only the nnbasics figure is printed.
"""

import ctypes
import os
import resource
import statistics
import sys
import time

import numpy as np

from ..layers import init_mlp, two_layer_grads

BATCH, D_IN, WIDTH, CLASSES = 256, 512, 512, 10
TARGET_RATIO = 1.5


def blas_threads():
    """NumPy's BLAS and its thread count, read from the loaded OpenBLAS when possible.

    Returns
    -------
    str
        E.g. ``"scipy-openblas 0.3.31 (2 threads)"``.
    """
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    name = f"{blas.get('name', '?')} {blas.get('version', '?')}"
    with open("/proc/self/maps") as maps:  # Linux: find the OpenBLAS that NumPy loaded
        paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    for path in sorted(paths):
        lib = ctypes.CDLL(path)
        for symbol in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads"):
            if hasattr(lib, symbol):
                n = getattr(lib, symbol)()
                return f"{name} ({n} thread{'' if n == 1 else 's'})"
    return f"{name} (thread count unknown)"


def thread_settings(torch=None):
    """One line per library: the thread settings that decide these figures.

    Parameters
    ----------
    torch : module, optional
        The imported ``torch``, when available.

    Returns
    -------
    list of str
    """
    env = " ".join(
        f"{k}={os.environ.get(k, 'unset')}" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    )
    lines = [f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}; {env}"]
    lines.append(f"numpy {np.__version__}: {blas_threads()}")
    if torch is not None:
        mkl = "MKL" if torch.backends.mkl.is_available() else "no MKL"
        n = torch.get_num_threads()
        lines.append(f"torch {torch.__version__}: {n} intra-op thread{'' if n == 1 else 's'}, {mkl}")
    return lines


def make_problem(seed=0):
    """The benchmark's data and parameters (Kaiming init, as ``init_mlp``), all float64.

    Returns
    -------
    X : ndarray, shape (BATCH, D_IN)
    y : ndarray of int, shape (BATCH,)
    params : dict
        ``W1`` (WIDTH, D_IN), ``b1`` (WIDTH,), ``W2`` (CLASSES, WIDTH), ``b2`` (CLASSES,).
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(BATCH, D_IN))
    y = rng.integers(0, CLASSES, BATCH)
    params = init_mlp([D_IN, WIDTH, CLASSES], rng)
    params["b1"] = rng.normal(scale=0.1, size=WIDTH)  # non-zero biases so the bias gradients are not trivial
    return X, y, params


def torch_step_factory(torch, X, y, params):
    """A callable doing the same step in PyTorch on the same numbers.

    Parameters
    ----------
    torch : module
        The imported ``torch``.
    X, y, params
        As returned by ``make_problem``; the tensors share ``X`` and ``y``'s memory.

    Returns
    -------
    callable
        ``step() -> (loss, grads)``, ``grads`` a dict of tensors with ``params``' keys and shapes.
    """
    F = torch.nn.functional
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    leaves = {k: torch.from_numpy(v.copy()).requires_grad_() for k, v in params.items()}

    def step():
        for p in leaves.values():
            p.grad = None  # what optimizer.zero_grad() does by default
        hidden = F.relu(F.linear(Xt, leaves["W1"], leaves["b1"]))
        loss = F.cross_entropy(F.linear(hidden, leaves["W2"], leaves["b2"]), yt)
        loss.backward()
        return loss.item(), {k: p.grad for k, p in leaves.items()}

    return step


def time_blocks(steps, warmup=10, blocks=8, per_block=25):
    """Median seconds per call of each step, timed in alternating blocks.

    Parameters
    ----------
    steps : dict of str -> callable
    warmup : int
        Untimed calls of each step first (allocations, caches, thread pools).
    blocks, per_block : int
        Each step runs ``blocks`` blocks of ``per_block`` timed calls; the
        order of the steps alternates from block to block.

    Returns
    -------
    dict of str -> list of float
        Every timed call's duration in seconds.
    """
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {name: [] for name in steps}
    names = list(steps)
    for block in range(blocks):
        for name in names if block % 2 == 0 else names[::-1]:
            step = steps[name]
            for _ in range(per_block):
                start = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - start)
    return times


def page_faults_per_call(step, calls=20):
    """Minor page faults per call of ``step``: fresh memory the kernel had to map and zero.

    Large NumPy temporaries that the C allocator hands back to the system
    after each step cost one fault per 4 KiB page the next time; this shows
    how much of a step's time is the allocator's rather than the arithmetic's.

    Returns
    -------
    float
    """
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        step()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


def _report(name, times, step):
    q = statistics.quantiles(times, n=10)
    faults = page_faults_per_call(step)
    print(
        f"  {name:9s} {statistics.median(times) * 1e3:7.3f} ms/step (median of {len(times)}; 10%-90% "
        f"{q[0] * 1e3:.3f}-{q[-1] * 1e3:.3f}; {faults:.0f} minor page faults/step)"
    )
    return statistics.median(times)


def main(blocks=8, per_block=25):
    """Print the per-step times, their ratio and the thread settings; return 0.

    nnbasics is timed twice: first alone, before PyTorch is imported (what a
    NumPy-only user sees), then side by side with PyTorch in alternating
    blocks. Importing and running PyTorch changes the C allocator's state of
    the whole process (it stops handing big freed blocks back to the system),
    so the side-by-side figures compare the arithmetic under equal conditions;
    the page-fault counts show the difference.
    """
    X, y, params = make_problem()
    ours = {"nnbasics": lambda: two_layer_grads(X, y, params)}
    print(f"2-layer MLP step (forward + backward), batch {BATCH}, {D_IN} -> {WIDTH} -> {CLASSES}, ReLU, float64")
    print("  alone (PyTorch not imported yet):")
    alone = _report(
        "nnbasics", time_blocks(ours, blocks=blocks // 2 or 1, per_block=per_block)["nnbasics"], ours["nnbasics"]
    )
    try:
        import torch
    except ImportError:
        torch = None
    for line in thread_settings(torch):
        print(f"  {line}")
    if torch is None:
        print("  pytorch not importable: no ratio (pip install torch==2.13.0 into this environment to compare)")
        return 0
    steps = {**ours, "pytorch": torch_step_factory(torch, X, y, params)}
    loss, grads = steps["nnbasics"]()
    t_loss, t_grads = steps["pytorch"]()
    diff = max(abs(loss - t_loss) / abs(t_loss), *(_rel(grads[k], t_grads[k].numpy()) for k in grads))
    print(f"  same step: loss {loss:.6f} vs {t_loss:.6f}, largest relative difference {diff:.1e}")
    print("  side by side in one process, alternating blocks:")
    times = time_blocks(steps, blocks=blocks, per_block=per_block)
    median = {name: _report(name, times[name], steps[name]) for name in steps}
    ratio = median["nnbasics"] / median["pytorch"]
    verdict = "within" if ratio <= TARGET_RATIO else "ABOVE"
    print(f"  ratio nnbasics / pytorch = {ratio:.2f} side by side ({verdict} the {TARGET_RATIO} target)")
    fast = {name: statistics.quantiles(t, n=10)[0] for name, t in times.items()}  # robust to load from elsewhere
    print(f"  ratio of the fastest-10% times = {fast['nnbasics'] / fast['pytorch']:.2f}")
    print(
        f"  (nnbasics alone / pytorch = {alone / median['pytorch']:.2f}: the alone figure was timed first, not interleaved)"
    )
    return 0


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


if __name__ == "__main__":
    sys.exit(main())
