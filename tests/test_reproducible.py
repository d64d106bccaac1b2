"""Same seed, same numbers: also with concurrent processes and with cold or warm compile caches."""

import json
import os
import subprocess
import sys

import pytest

FIT = """
import json, sys
import bayescausal.ab as ab
r = ab.analyze(dataset="simulated-ab", draws=300, tune=300, chains=2, seed=11)
s = r.to_json()
s.pop("timings")
print(json.dumps(s, sort_keys=True, default=str))
"""


def _start(cache: str):
    env = os.environ | {"PYTENSOR_FLAGS": f"base_compiledir={cache}"}
    return subprocess.Popen([sys.executable, "-c", FIT], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)


@pytest.mark.slow
def test_concurrent_cold_and_warm_fits_are_bit_identical(tmp_path):
    """Two processes compile the segment hierarchy at once into an empty cache, then a third loads the cached
    functions: all three summaries are identical (before numba fastmath was switched off they were not)."""
    cache = str(tmp_path / "pytensor")
    pair = [_start(cache), _start(cache)]
    outputs = [p.communicate(timeout=600)[0] for p in pair]
    outputs.append(_start(cache).communicate(timeout=600)[0])
    summaries = [json.loads(o) for o in outputs]
    assert summaries[0]["diagnostics"]["method"].startswith("NUTS")
    assert summaries[0] == summaries[1] == summaries[2]
