"""train: logistic regression by batch gradient descent with L2.

Features are standardised with the training set's mean and standard
deviation (kept in the model). The model gives the probability of class 1
(benign), as the data set labels it; evaluate turns that into a decision.
Hyperparameters come from CAIRN_PARAM_<K> or the environment:
EPOCHS (300), LEARNING_RATE (0.5), L2 (0.01).
The model output is a folder: model.json and README.md.
"""

import math
import os
import sys

sys.dont_write_bytecode = True  # keep the example folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def number(param, env, default, kind):
    raw = common.setting(param, env, default)
    try:
        value = kind(raw)
    except ValueError:
        common.fail(f"{param} '{raw}' is not a valid {kind.__name__}")
    if value < 0 or (param != "l2" and value == 0):
        common.fail(f"{param} must be positive, got {raw}")
    return value


def standardise(xs):
    n, d = len(xs), len(xs[0])
    means = [sum(x[j] for x in xs) / n for j in range(d)]
    stds = []
    for j in range(d):
        var = sum((x[j] - means[j]) ** 2 for x in xs) / n
        stds.append(math.sqrt(var) if var > 0 else 1.0)
    zs = [[(x[j] - means[j]) / stds[j] for j in range(d)] for x in xs]
    return zs, means, stds


def loss_and_accuracy(zs, ys, w, b, l2):
    total, correct = 0.0, 0
    for z, y in zip(zs, ys):
        p = common.sigmoid(sum(wj * zj for wj, zj in zip(w, z)) + b)
        p = min(max(p, 1e-12), 1.0 - 1e-12)
        total -= y * math.log(p) + (1 - y) * math.log(1.0 - p)
        correct += int((p >= 0.5) == (y == 1))
    n = len(ys)
    return total / n + 0.5 * l2 * sum(wj * wj for wj in w), correct / n


def fit(zs, ys, epochs, lr, l2):
    n, d = len(zs), len(zs[0])
    w, b = [0.0] * d, 0.0
    for _ in range(epochs):
        gw, gb = [0.0] * d, 0.0
        for z, y in zip(zs, ys):
            err = common.sigmoid(sum(wj * zj for wj, zj in zip(w, z)) + b) - y
            gb += err
            for j in range(d):
                gw[j] += err * z[j]
        w = [wj - lr * (g / n + l2 * wj) for wj, g in zip(w, gw)]
        b -= lr * gb / n
    return w, b


README = """# breast_cancer_model

Logistic regression on the 30 features of the Breast Cancer Wisconsin
(Diagnostic) data set, written by the `train` step of the cairn example
pipeline `examples/breast_cancer`.

`model.json` holds everything needed to predict, with no library:

    z_j = (x_j - means[j]) / stds[j]        for each feature j, in the
                                            order of `feature_names`
    p   = 1 / (1 + exp(-(sum_j weights[j] * z_j + bias)))

`p` is the probability of class 1 (`benign`); class 0 is `malignant`.
The class is 1 when p >= threshold (0.5), else 0.

Trained on {rows} rows: {epochs} epochs of batch gradient descent,
learning rate {lr}, L2 penalty {l2}; final training loss {loss:.4f},
training accuracy {acc:.4f}.
"""


def main():
    train_path = common.input_path("train")
    out = common.output_path("model")
    epochs = number("epochs", "EPOCHS", "300", int)
    lr = number("learning_rate", "LEARNING_RATE", "0.5", float)
    l2 = number("l2", "L2", "0.01", float)

    rows = common.read_dataset(train_path)
    if len({y for _, y in rows}) < 2:
        common.fail(f"{train_path}: the training set holds only one class")
    zs, means, stds = standardise([x for x, _ in rows])
    ys = [y for _, y in rows]
    w, b = fit(zs, ys, epochs, lr, l2)
    loss, acc = loss_and_accuracy(zs, ys, w, b, l2)
    if not math.isfinite(loss):
        common.fail("training diverged (loss is not finite); "
                    "lower LEARNING_RATE")

    os.mkdir(out)
    common.write_json(os.path.join(out, "model.json"), {
        "kind": "logistic_regression",
        "feature_names": common.FEATURES,
        "class_names": common.CLASS_NAMES,
        "predicts": "probability of class 1 (benign)",
        "threshold": 0.5,
        "weights": w,
        "bias": b,
        "means": means,
        "stds": stds,
        "hyperparameters": {"epochs": epochs, "learning_rate": lr, "l2": l2,
                            "optimizer": "batch gradient descent"},
        "training": {"rows": len(rows), "final_loss": loss,
                     "accuracy": acc},
    })
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as f:
        f.write(README.format(rows=len(rows), epochs=epochs, lr=lr, l2=l2,
                              loss=loss, acc=acc))
    common.write_metrics({
        "train_accuracy": round(acc, 6),
        "epochs": epochs,
        "final_loss": round(loss, 6),
    })


if __name__ == "__main__":
    main()
