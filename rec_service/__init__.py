"""movierec's gRPC service: configuration, serving model, lazy update, live ratings, retrain.

A request runs its NumPy work on its own gRPC thread, so BLAS must not start threads of its own:
with OpenBLAS's default (a thread per core per call), a rank-64 matrix-vector product on every
recompute made 16 request threads fight over 2 cores, and the stale-read mix lost about half
its throughput (benchmarks/results/design-measurements.md).
Set here, before NumPy loads, unless the environment already says otherwise.
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
