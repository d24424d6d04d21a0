"""Trainer checkpoints that appear only when complete, and resuming from the newest complete one.

transformers 5.24 writes `checkpoint-N` in place (`Trainer._save_checkpoint`: weights, optimizer, scheduler, RNG
state, then `trainer_state.json`), so a kill during the write leaves a folder that `get_last_checkpoint` picks and
that fails to load. `StagedCheckpointTrainer` lets the Trainer write into `tmp-checkpoint-N/` and renames the finished
folder to `checkpoint-N`; `last_complete_checkpoint` skips, with a warning, any newer folder that does not load
(written by a plain Trainer, or damaged later).
"""

import logging
import os
import re
import shutil
from pathlib import Path

from transformers import Trainer
from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, rotate_checkpoints

from .errors import HfnewsError
from .integrity import STAGING_PREFIX, DamagedFileError, publish_folder, staging_path
from .model_files import check_checkpoint


logger = logging.getLogger(__name__)

CHECKPOINT_NAME = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")  # what `get_last_checkpoint` accepts


class StagedCheckpointTrainer(Trainer):
    """A `Trainer` whose `checkpoint-N` folders appear only complete: written in `tmp-checkpoint-N/`, then renamed.

    `Trainer._save_checkpoint` builds the folder's path from `_get_output_dir`, so for the duration of one save that
    returns the staging folder; everything the Trainer does with the path (best-model tracking, rotation, pushing a
    checkpoint to the Hub) is then redone for the final name once it exists.
    """

    _staging_dir: Path | None = None

    def _get_output_dir(self, trial) -> str:
        return str(self._staging_dir) if self._staging_dir is not None else super()._get_output_dir(trial)

    def _push_from_checkpoint(self, checkpoint_folder: str) -> None:
        if self._staging_dir is None:  # a staged folder is pushed under its final name, once renamed
            super()._push_from_checkpoint(checkpoint_folder)

    def _save_checkpoint(self, model, trial) -> None:
        run_dir = Path(super()._get_output_dir(trial))
        final = run_dir / f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
        staging = staging_path(final)
        staged = staging / final.name  # where the Trainer writes, given `staging` as its output folder
        if self.args.should_save:
            # Staging folders present now were left by killed runs: one run writes one checkpoint at a time. Clear
            # them, or they would fill the disk and go to the Hub with the output folder.
            for stale in run_dir.glob(f"{STAGING_PREFIX}{PREFIX_CHECKPOINT_DIR}-*"):
                shutil.rmtree(stale, ignore_errors=True)
        self.accelerator.wait_for_everyone()
        self._staging_dir = staging
        try:
            super()._save_checkpoint(model, trial)
        finally:
            self._staging_dir = None
        if self.state.best_model_checkpoint == str(staged):  # this step is the best so far
            self.state.best_model_checkpoint = str(final)
        self.accelerator.wait_for_everyone()  # every process has written its part (RNG states are per process)
        if self.args.should_save:
            self.state.save_to_json(str(staged / TRAINER_STATE_NAME))  # again, with the final best path
            publish_folder(staged, final)
            shutil.rmtree(staging)
            rotate_checkpoints(
                output_dir=str(run_dir),
                save_total_limit=self.args.save_total_limit,
                best_model_checkpoint=self.state.best_model_checkpoint,
                use_mtime=True,
            )
        self.accelerator.wait_for_everyone()
        if self.args.push_to_hub:
            self._push_from_checkpoint(str(final))


def last_complete_checkpoint(output_dir: str | os.PathLike) -> str | None:
    """The newest `checkpoint-N` in `output_dir` whose weights, optimizer, scheduler and trainer state all load.

    Newer folders that do not load are named in one warning each and left in place. Returns None when there is
    no complete checkpoint (or no folder).
    """
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return None
    numbered = [(int(match[1]), path) for path in output_dir.iterdir() if (match := CHECKPOINT_NAME.match(path.name))]
    for _, folder in sorted(numbered, reverse=True):
        if not folder.is_dir():
            continue
        try:
            check_checkpoint(folder)
        except DamagedFileError as error:
            logger.warning("skipping incomplete checkpoint %s: %s", folder, error)
            continue
        return str(folder)
    return None


# What a finished (or started) run leaves in its output folder: the model, the report, per-epoch checkpoints.
RUN_FILES = ("config.json", "metrics.json", "model.safetensors")


def check_output_dir(output_dir: str | os.PathLike, overwrite: bool, resuming: bool) -> None:
    """Refuse to train into a folder that holds another run's model, so that no model is replaced silently.

    With `overwrite` (`--overwrite_output_dir true`) the old run's `checkpoint-N` folders are removed, said so, and
    its files are written over; with `resuming` (`--resume_from_checkpoint`) the folder is the run to continue.

    Raises:
        HfnewsError: when the folder holds any of `RUN_FILES` or a `checkpoint-N` folder and neither flag is given.
    """
    output_dir = Path(output_dir)
    if resuming or not output_dir.is_dir():
        return
    found = [name for name in RUN_FILES if (output_dir / name).exists()]
    checkpoints = sorted(path for path in output_dir.iterdir() if CHECKPOINT_NAME.match(path.name))
    if not found and not checkpoints:
        return
    if not overwrite:
        held = ", ".join(found + [path.name for path in checkpoints][:3])
        raise HfnewsError(
            f"{output_dir} already holds a trained run ({held}): pass another --output_dir, "
            "--overwrite_output_dir true to replace it, or --resume_from_checkpoint last to continue it"
        )
    for path in checkpoints:
        shutil.rmtree(path)
    logger.warning("--overwrite_output_dir: replacing the run in %s (%d old checkpoint(s) removed)", output_dir,
                   len(checkpoints))  # fmt: skip
