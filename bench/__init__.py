"""Benchmarks: what a night costs, and how that cost grows (`make bench`, `make bench-full`)."""
