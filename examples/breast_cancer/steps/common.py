"""Helpers shared by the breast_cancer pipeline steps (standard library only).

The step contract (see the cairn design): inputs are paths in
CAIRN_INPUT_<NAME>, outputs are paths in CAIRN_OUTPUT_<NAME> that do not
exist yet, metrics go as one JSON object to the file named by CAIRN_METRICS,
parameters arrive as CAIRN_PARAM_<K>.
"""

import csv
import json
import math
import os
import re
import sys

# The 30 features of the Wisconsin Diagnostic data set, in file order: the
# mean, the standard error and the "worst" (mean of the three largest values)
# of ten measurements of the cell nuclei.
_MEASURES = [
    "radius", "texture", "perimeter", "area", "smoothness", "compactness",
    "concavity", "concave_points", "symmetry", "fractal_dimension",
]
FEATURES = ([f"mean_{m}" for m in _MEASURES]
            + [f"{m}_error" for m in _MEASURES]
            + [f"worst_{m}" for m in _MEASURES])
TARGET = "target"
CLASS_NAMES = ["malignant", "benign"]  # class index 0, 1


def fail(message):
    """Print a one-line error on stderr and exit with status 1."""
    step = os.path.basename(sys.argv[0])
    print(f"{step}: error: {message}", file=sys.stderr)
    sys.exit(1)


def _env_name(name):
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def input_path(name):
    """Path of input NAME; it must exist."""
    var = "CAIRN_INPUT_" + _env_name(name)
    path = os.environ.get(var)
    if not path:
        fail(f"{var} is not set: run this step with cairn, or set it to "
             f"the path of the '{name}' input")
    if not os.path.exists(path):
        fail(f"input '{name}' not found at {path} ({var})")
    return path


def output_path(name):
    """Path of output NAME; it must not exist yet, its parent is created."""
    var = "CAIRN_OUTPUT_" + _env_name(name)
    path = os.environ.get(var)
    if not path:
        fail(f"{var} is not set: run this step with cairn, or set it to "
             f"a path where the '{name}' output should be written")
    if os.path.exists(path):
        fail(f"output '{name}' already exists at {path} ({var}); "
             f"outputs must be written to a new path")
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    return path


def setting(param, env, default):
    """CAIRN_PARAM_<param> if set, else the env variable, else default."""
    value = os.environ.get("CAIRN_PARAM_" + _env_name(param))
    if value is None or value == "":
        value = os.environ.get(env)
    if value is None or value == "":
        return default
    return value


def write_metrics(metrics):
    """Write metrics (a dict) to CAIRN_METRICS if set; print them anyway."""
    print(json.dumps(metrics, sort_keys=True))
    path = os.environ.get("CAIRN_METRICS")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(metrics, f, sort_keys=True)
            f.write("\n")


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def write_dataset(path, rows):
    """Write rows of (features list, target int) as CSV with a header."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(FEATURES + [TARGET])
        for x, y in rows:
            w.writerow([repr(v) for v in x] + [y])


def read_dataset(path):
    """Read a CSV written by write_dataset; return list of (features, y)."""
    rows = []
    try:
        with open(path, encoding="utf-8", newline="") as f:
            r = csv.reader(f)
            header = next(r, None)
            if header != FEATURES + [TARGET]:
                fail(f"{path}: unexpected header; expected the 30 feature "
                     f"names and '{TARGET}' as written by the load step")
            for n, rec in enumerate(r, start=2):
                if len(rec) != len(header):
                    fail(f"{path}:{n}: {len(rec)} fields, "
                         f"expected {len(header)}")
                x = [float(v) for v in rec[:-1]]
                y = int(rec[-1])
                if y not in (0, 1) or not all(math.isfinite(v) for v in x):
                    fail(f"{path}:{n}: bad values")
                rows.append((x, y))
    except (OSError, ValueError) as e:
        fail(f"cannot read dataset {path}: {e}")
    if not rows:
        fail(f"{path}: no rows")
    return rows


def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
