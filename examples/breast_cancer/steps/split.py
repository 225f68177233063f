"""split: seeded, stratified train/test split of the dataset.

Seed: CAIRN_PARAM_SEED if set, else SPLIT_SEED, else 42.
Test fraction: CAIRN_PARAM_TEST_FRACTION if set, else TEST_FRACTION,
else 0.25. Each class is shuffled on its own and the same fraction of it
goes to the test set, so both sets keep the class balance.
"""

import os
import random
import sys

sys.dont_write_bytecode = True  # keep the example folder clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main():
    dataset = common.input_path("dataset")
    train_out = common.output_path("train")
    test_out = common.output_path("test")
    seed_s = common.setting("seed", "SPLIT_SEED", "42")
    frac_s = common.setting("test_fraction", "TEST_FRACTION", "0.25")
    try:
        seed = int(seed_s)
    except ValueError:
        common.fail(f"seed '{seed_s}' is not an integer")
    try:
        frac = float(frac_s)
    except ValueError:
        common.fail(f"test fraction '{frac_s}' is not a number")
    if not 0.0 < frac < 1.0:
        common.fail(f"test fraction {frac} must be between 0 and 1")

    rows = common.read_dataset(dataset)
    rng = random.Random(seed)
    train, test = [], []
    for cls in (0, 1):
        idx = [i for i, (_, y) in enumerate(rows) if y == cls]
        rng.shuffle(idx)
        n_test = int(round(len(idx) * frac))
        test += idx[:n_test]
        train += idx[n_test:]
    if not train or not test:
        common.fail(f"test fraction {frac} leaves an empty train or test set")
    # Keep file order within each set so the outputs are easy to diff.
    common.write_dataset(train_out, [rows[i] for i in sorted(train)])
    common.write_dataset(test_out, [rows[i] for i in sorted(test)])
    common.write_metrics({
        "train_rows": len(train),
        "test_rows": len(test),
        "seed": seed,
        "test_fraction": frac,
    })


if __name__ == "__main__":
    main()
