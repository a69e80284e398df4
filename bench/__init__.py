"""emberflow's benchmarks: each target run side by side with the plain script a user would otherwise write.

Run them with ``make bench`` or ``python -m bench.run``; see bench/README.md.
"""
