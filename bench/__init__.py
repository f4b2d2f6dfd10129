"""Benchmarks: each module prints its figures, with ratios against a baseline measured in the
same run (`python -m bench.<name>`; bench/README.md has the last results)."""
