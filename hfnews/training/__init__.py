"""Stage 3, model + data -> `transformers.Trainer` -> checkpoint, metrics, plots and model card.

`arguments` (train.py's command line, named configs), `experiment` and `run` (the one training path), `trainer`
(`NewsTrainer`, `build_trainer`), `callbacks`, `losses` (classification and distillation losses), `distillation`
(the teacher's logits as a column), `checkpoints`, `launch` (what accelerate was asked for), `report`, `model_card`,
`hub`. May import `hfnews.data`, `hfnews.models`, `hfnews.evaluation` and the top-level helpers; never inference or
tuning.
"""
