"""Trainer checkpoints that appear only when complete, and resuming from the newest complete one.

transformers 5.24 writes `checkpoint-N` in place (`Trainer._save_checkpoint`: weights, optimizer, scheduler, RNG
state, then `trainer_state.json`), so a kill during the write leaves a folder that `get_last_checkpoint` picks and
that fails to load. `StagedCheckpointTrainer` lets the Trainer write into `tmp-checkpoint-N/` and renames the finished
folder to `checkpoint-N`; `last_complete_checkpoint` skips, with a warning, any newer folder that does not load
(written by a plain Trainer, or damaged later).

With several processes, on one machine or several, every process writes its part of a checkpoint (its RNG state)
into the staging folder, and only the saving process (`should_save`: the main one, or each machine's with
`save_on_each_node`) renames it, while the others wait. So the processes of a machine must see the folder its saving
process publishes: `check_output_folder_shared` stops a run, before training, whose machines do not.
"""

import logging
import os
import re
import shutil
import time
import uuid
from pathlib import Path

import torch.distributed as dist
from transformers import Trainer, TrainingArguments
from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, rotate_checkpoints

from ..errors import HfnewsError
from ..integrity import STAGING_PREFIX, DamagedFileError, publish_folder, staging_path
from ..models.model_files import check_checkpoint


logger = logging.getLogger(__name__)

CHECKPOINT_NAME = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")  # what `get_last_checkpoint` accepts
SHARING_MARKER = ".hfnews-shared-"  # + a token: the file process 0 writes for `check_output_folder_shared`


class StagedCheckpointTrainer(Trainer):
    """A `Trainer` whose `checkpoint-N` folders appear only complete: written in `tmp-checkpoint-N/`, then renamed.

    `Trainer._save_checkpoint` builds the folder's path from `_get_output_dir`, so for the duration of one save that
    returns the staging folder; everything the Trainer does with the path (best-model tracking, rotation, pushing a
    checkpoint to the Hub) is then redone for the final name once it exists.
    """

    _staging_dir: Path | None = None

    def train(self, *args, **kwargs):
        check_output_folder_shared(self.args)
        return super().train(*args, **kwargs)

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


def check_output_folder_shared(args: TrainingArguments, wait_s: float = 5.0) -> None:
    """Check, with every process of a run that saves checkpoints, that the output folder is shared as the saving
    processes need: each process sees the folder of exactly one saving process (`should_save`), the main one on a disk
    every machine mounts, or its machine's own with `save_on_each_node`.

    Each saving process writes a marker file there; a process that sees none looks again for up to `wait_s` seconds,
    as a network file system may show another machine's new file late. Call it from every process at once.

    Raises:
        HfnewsError: on every process alike, naming the fix (a shared disk, or `--save_on_each_node`).
    """
    if args.world_size <= 1 or args.save_strategy == "no":
        return
    token = [uuid.uuid4().hex]
    dist.broadcast_object_list(token, src=0)
    output_dir, prefix = Path(args.output_dir), f"{SHARING_MARKER}{token[0]}-"
    if args.should_save:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / f"{prefix}{args.process_index}").touch()
    dist.barrier()
    deadline = time.monotonic() + wait_s
    while not (seen := _marker_ranks(output_dir, prefix)) and time.monotonic() < deadline:
        time.sleep(0.2)
    views = [None] * args.world_size
    dist.all_gather_object(views, (args.process_index, args.should_save, seen))
    dist.barrier()
    if args.should_save:
        (output_dir / f"{prefix}{args.process_index}").unlink()
    problem = output_sharing_problem(views, str(output_dir))
    if problem is not None:
        raise HfnewsError(problem)


def _marker_ranks(output_dir: Path, prefix: str) -> list[int]:
    return sorted(int(path.name.removeprefix(prefix)) for path in output_dir.glob(f"{prefix}*"))


def output_sharing_problem(views: list[tuple[int, bool, list[int]]], output_dir: str) -> str | None:
    """What is wrong with how the processes share `output_dir`, from each process's (rank, whether it saves, the
    ranks of the saving processes whose markers it sees); None when nothing is."""
    blind = [rank for rank, _, seen in views if not seen]
    if blind:
        return (
            f"process(es) {', '.join(map(str, blind))} do not see the output folder {output_dir} that process 0 "
            "writes, so they could never resume: put it on a disk every machine mounts, or pass "
            "--save_on_each_node true (each machine then keeps a copy)"
        )
    twice = [rank for rank, saves, seen in views if saves and set(seen) - {rank}]
    if twice:
        return (
            f"--save_on_each_node with an output folder {output_dir} that every machine sees: processes "
            f"{', '.join(map(str, twice))} would each write the same checkpoints; drop --save_on_each_node"
        )
    return None


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
