"""Ground-truth simulators, one per family: the tests, the demo and the benchmarks share them."""
