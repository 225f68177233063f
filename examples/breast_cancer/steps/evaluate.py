"""evaluate: score the model on the held-out test set.

The positive class is MALIGNANT (class index 0), the clinically relevant
one: precision is the share of tumours called malignant that are, recall
the share of malignant tumours that are found. Outputs:
  metrics  a file, metrics.json-style JSON with all numbers
  report   a file, a Markdown report with a table and the confusion matrix
CAIRN_METRICS gets accuracy, precision, recall and f1.
"""

import json
import math
import os
import sys

sys.dont_write_bytecode = True  # keep the example folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

MALIGNANT, BENIGN = 0, 1


def load_model(path):
    if os.path.isdir(path):
        path = os.path.join(path, "model.json")
    try:
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        common.fail(f"cannot read model {path}: {e}")
    d = len(common.FEATURES)
    if m.get("feature_names") != common.FEATURES:
        common.fail(f"{path}: the model's features do not match this data")
    for key in ("weights", "means", "stds"):
        if not isinstance(m.get(key), list) or len(m[key]) != d:
            common.fail(f"{path}: '{key}' must be a list of {d} numbers")
    return m


def predict(m, x):
    z = m["bias"]
    for w, v, mu, sd in zip(m["weights"], x, m["means"], m["stds"]):
        z += w * (v - mu) / sd
    return BENIGN if common.sigmoid(z) >= m.get("threshold", 0.5) \
        else MALIGNANT


def ratio(a, b):
    return a / b if b else 0.0


def main():
    model = load_model(common.input_path("model"))
    rows = common.read_dataset(common.input_path("test"))
    metrics_out = common.output_path("metrics")
    report_out = common.output_path("report")

    # cm[actual][predicted], indices are class indices.
    cm = [[0, 0], [0, 0]]
    for x, y in rows:
        cm[y][predict(model, x)] += 1
    tp, fn = cm[MALIGNANT][MALIGNANT], cm[MALIGNANT][BENIGN]
    fp, tn = cm[BENIGN][MALIGNANT], cm[BENIGN][BENIGN]
    n = len(rows)
    accuracy = (tp + tn) / n
    precision = ratio(tp, tp + fp)
    recall = ratio(tp, tp + fn)
    f1 = ratio(2 * precision * recall, precision + recall)
    specificity = ratio(tn, tn + fp)
    for v in (accuracy, precision, recall, f1):
        if not math.isfinite(v):
            common.fail("a metric is not finite")

    result = {
        "positive_class": "malignant",
        "test_rows": n,
        "accuracy": accuracy,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "specificity": specificity,
        "confusion_matrix": {
            "labels": common.CLASS_NAMES,
            "rows_actual_columns_predicted": cm,
        },
    }
    common.write_json(metrics_out, result)

    with open(report_out, "w", encoding="utf-8") as f:
        f.write(
            "# Breast cancer classifier: evaluation\n\n"
            f"Held-out test set: {n} rows "
            f"({tp + fn} malignant, {fp + tn} benign). "
            "Positive class: **malignant**.\n\n"
            "| metric | value |\n| --- | --- |\n"
            f"| accuracy | {accuracy:.4f} |\n"
            f"| precision | {precision:.4f} |\n"
            f"| recall (sensitivity) | {recall:.4f} |\n"
            f"| f1 | {f1:.4f} |\n"
            f"| specificity | {specificity:.4f} |\n\n"
            "## Confusion matrix\n\n"
            "| actual \\ predicted | malignant | benign |\n"
            "| --- | --- | --- |\n"
            f"| malignant | {tp} | {fn} |\n"
            f"| benign | {fp} | {tn} |\n\n"
            f"Model: {model.get('kind', 'unknown')}, hyperparameters "
            f"{json.dumps(model.get('hyperparameters', {}), sort_keys=True)}."
            "\n")
    common.write_metrics({
        "accuracy": round(accuracy, 6),
        "precision": round(precision, 6),
        "recall": round(recall, 6),
        "f1": round(f1, 6),
    })


if __name__ == "__main__":
    main()
