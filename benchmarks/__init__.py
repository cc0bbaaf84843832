"""Measured workloads of engage-core, run with `python -m benchmarks` (`make bench`).

Each workload runs its subject and the baselines it is judged against in one process over the
same seeded input, and reports ratios (see `benchmarks.harness` for why). Results and how to
reproduce them: docs/benchmarks.md.
"""
