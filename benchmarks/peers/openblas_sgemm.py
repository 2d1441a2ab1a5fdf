"""OpenBLAS sgemm (through numpy) at the Linear shapes of LinearBenchmark: the GEMM ceiling.

y[T, out] = x[T, in] @ W[in, out] + b, float32, the same work as one jembed Linear call
(bias add included). Prints one line per (threads, T, shape) with GFLOP/s = 2*T*in*out / s,
the median of several timed rounds. Threads are fixed per process through OPENBLAS_NUM_THREADS,
so the script re-runs itself once per thread count.

    python3 benchmarks/peers/openblas_sgemm.py [--threads 1,2] [--seconds 1.0]
"""
import argparse
import json
import os
import subprocess
import sys
import time

SHAPES = [(384, 384), (384, 1536), (1536, 384)]
TOKENS = [8, 64, 512]


def measure(seconds):
    import numpy as np
    rng = np.random.default_rng(42)
    rows = []
    for T in TOKENS:
        for inp, out in SHAPES:
            x = rng.standard_normal((T, inp), dtype=np.float32)
            w = (rng.standard_normal((inp, out), dtype=np.float32) * 0.05)
            b = (rng.standard_normal(out, dtype=np.float32) * 0.05)
            y = np.empty((T, out), dtype=np.float32)
            flop = 2.0 * T * inp * out

            def call():
                np.matmul(x, w, out=y)
                np.add(y, b, out=y)

            for _ in range(50):
                call()
            rates = []
            for _ in range(5):
                n = 0
                start = time.perf_counter()
                while True:
                    call()
                    n += 1
                    elapsed = time.perf_counter() - start
                    if elapsed >= seconds / 5:
                        break
                rates.append(flop * n / elapsed / 1e9)
            rates.sort()
            rows.append({"tokens": T, "shape": f"{inp}x{out}", "gflops": rates[len(rates) // 2]})
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.seconds)))
        return
    import numpy as np
    config = np.__config__.CONFIG["Build Dependencies"]["blas"]
    print(f"# numpy {np.__version__}, {config.get('name')} {config.get('version')}", flush=True)
    print(f"{'threads':>7} {'T':>4} {'shape':>9} {'GFLOP/s':>8}")
    for threads in [int(t) for t in args.threads.split(",")]:
        env = dict(os.environ)
        # The machine's environment may pin OpenBLAS to an older core type or cache size;
        # the ceiling is OpenBLAS as it tunes itself for this CPU.
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
        env["OPENBLAS_NUM_THREADS"] = str(threads)
        env["OMP_NUM_THREADS"] = str(threads)
        out = subprocess.run([sys.executable, __file__, "--child", "--seconds", str(args.seconds)],
                             env=env, check=True, capture_output=True, text=True).stdout
        for row in json.loads(out):
            print(f"{threads:>7} {row['tokens']:>4} {row['shape']:>9} {row['gflops']:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
