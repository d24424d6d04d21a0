"""`scripts/train.py` that records the rows each process trains on, for the multi-machine tests.

accelerate launch ... tests/record_batches.py ARGS   # as scripts/train.py ARGS; needs $HFNEWS_BATCH_LOG, a folder

Every training step appends one JSON line to `$HFNEWS_BATCH_LOG/rank<process index>.jsonl`: the batch's rows as the
model reads them, token IDs without padding (the attention mask says which are real).
"""

import json
import os
import runpy
import sys
from pathlib import Path

from hfnews.training.trainer import NewsTrainer


TRAIN_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train.py"
training_step = NewsTrainer.training_step


def recording_step(self, model, inputs, *args, **kwargs):
    rows = [ids[mask.bool()].tolist() for ids, mask in zip(inputs["input_ids"], inputs["attention_mask"])]
    with open(Path(os.environ["HFNEWS_BATCH_LOG"]) / f"rank{self.args.process_index}.jsonl", "a") as log:
        log.write(json.dumps(rows) + "\n")
    return training_step(self, model, inputs, *args, **kwargs)


if __name__ == "__main__":
    NewsTrainer.training_step = recording_step
    sys.argv = [str(TRAIN_SCRIPT), *sys.argv[1:]]
    runpy.run_path(str(TRAIN_SCRIPT), run_name="__main__")
