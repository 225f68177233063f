"""load: read and validate data/breast_cancer.csv, write the dataset output.

The source file has a header `ROWS,COLUMNS,class-name-0,class-name-1`, then
per line 30 feature values and the class index (0 malignant, 1 benign).
The output is a CSV with named feature columns and a `target` column.
"""

import math
import os
import sys

sys.dont_write_bytecode = True  # keep the example folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SOURCE = os.path.join("data", "breast_cancer.csv")


def parse(path):
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        common.fail(f"cannot read {path}: {e}")
    if not lines:
        common.fail(f"{path} is empty")
    head = lines[0].split(",")
    if len(head) < 4:
        common.fail(f"{path}:1: header '{lines[0]}' is not "
                    f"ROWS,COLUMNS,class-name-0,class-name-1")
    try:
        n_rows, n_cols = int(head[0]), int(head[1])
    except ValueError:
        common.fail(f"{path}:1: ROWS and COLUMNS must be integers, "
                    f"got '{head[0]}', '{head[1]}'")
    if n_cols != len(common.FEATURES):
        common.fail(f"{path}:1: header says {n_cols} features, this "
                    f"pipeline expects {len(common.FEATURES)}")
    if head[2:4] != common.CLASS_NAMES:
        common.fail(f"{path}:1: class names {head[2:4]}, expected "
                    f"{common.CLASS_NAMES}")
    body = [ln for ln in lines[1:] if ln.strip()]
    if len(body) != n_rows:
        common.fail(f"{path}: header says {n_rows} rows, file has "
                    f"{len(body)}")
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split(",")
        if len(fields) != n_cols + 1:
            common.fail(f"{path}:{n}: {len(fields)} fields, expected "
                        f"{n_cols + 1} (features and class)")
        try:
            x = [float(v) for v in fields[:-1]]
        except ValueError as e:
            common.fail(f"{path}:{n}: {e}")
        bad = [i for i, v in enumerate(x) if not math.isfinite(v)]
        if bad:
            common.fail(f"{path}:{n}: feature {common.FEATURES[bad[0]]} "
                        f"is not a finite number")
        if fields[-1].strip() not in ("0", "1"):
            common.fail(f"{path}:{n}: class '{fields[-1]}' is not 0 or 1")
        rows.append((x, int(fields[-1])))
    return rows


def main():
    out = common.output_path("dataset")
    rows = parse(SOURCE)
    common.write_dataset(out, rows)
    malignant = sum(1 for _, y in rows if y == 0)
    common.write_metrics({
        "rows": len(rows),
        "features": len(common.FEATURES),
        "malignant": malignant,
        "benign": len(rows) - malignant,
    })


if __name__ == "__main__":
    main()
