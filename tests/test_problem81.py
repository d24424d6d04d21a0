import subprocess
import sys
from pathlib import Path

import pytest


SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "problem81.py"


@pytest.mark.slow
@pytest.mark.parametrize("use_source", [True, False])
def test_problem81_prints_softmax_rows_for_training_headlines(tiny_csv, use_source):
    options = ["--source", str(tiny_csv), "--num_texts", "3"] if use_source else ["--texts", "Fed holds rates", "x"]
    done = subprocess.run([sys.executable, str(SCRIPT), *options], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    rows = 3 if use_source else 2
    assert lines[0] == f"probabilities: shape ({rows}, 4) (headlines x categories)"
    for line in lines[2:]:
        probabilities = [float(value) for value in line.split()[:4]]
        assert abs(sum(probabilities) - 1) < 1e-3 and all(0 < p < 1 for p in probabilities)
    assert len(lines) == rows + 2
