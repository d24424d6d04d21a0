"""Search hyperparameters with Optuna through `Trainer.hyperparameter_search` (problem 88).

python scripts/tune.py --model cnn --n_trials 30 --output_dir runs/tune-cnn   # space: configs/search/cnn.yaml
python scripts/tune.py --model cnn --n_trials 40 --output_dir runs/tune-cnn   # resumes: runs 10 more
python scripts/train.py --config runs/tune-cnn/best.yaml --output_dir runs/cnn-best
"""

from hfnews.cli import run_cli
from hfnews.tuning.arguments import parse_tune_args
from hfnews.tuning.search import run_search


def main() -> None:
    run_search(parse_tune_args())


if __name__ == "__main__":
    run_cli(main)
