"""movierec's gRPC service: configuration, serving model, lazy update, live ratings, retrain.

A request runs its NumPy work on its own gRPC thread, so BLAS must not start threads of its own:
with OpenBLAS's default (a thread per core per call), a rank-64 matrix-vector product on every
recompute made 16 request threads fight over 2 cores. Measured on the 10%-stale GetTopN mix at
32 in flight, two runs each: 560-792 req/s (p99 443-450 ms) with two BLAS threads, 1,054-1,181
req/s (p99 79-89 ms) with one.
Set here, before NumPy loads, unless the environment already says otherwise.
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
