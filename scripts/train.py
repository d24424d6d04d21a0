"""Train any hfnews model with the one Trainer path (problems 82-89).

accelerate launch scripts/train.py --model cnn
python scripts/train.py --model rnn --source ../shared/data/newsCorpora-dev.csv --output_dir runs/rnn
python scripts/train.py --config my.yaml --learning_rate 0.05   # command-line values override the file
"""

from hfnews.cli import run_cli
from hfnews.training.arguments import parse_train_args
from hfnews.training.run import run_training


def main() -> None:
    _, model_args, data_args, training_args = parse_train_args()
    run_training(model_args, data_args, training_args)


if __name__ == "__main__":
    run_cli(main)
