"""What `accelerate launch` was asked for, against what it started: the silent trap of several processes or machines.

`accelerate launch --num_processes 2` on one machine without `--multi_gpu` (or with `--cpu`) also starts one process
(accelerate turns `--multi_gpu` on by itself only where it sees several GPUs): it is refused the same way.

`accelerate launch --num_machines 2 --machine_rank R ...` without `--multi_gpu` (or with `--cpu`) runs accelerate's
simple launcher: one process per machine, unaware of the others (world size 1). Every machine then trains alone over
all the data, into the same output folder, and exits 0. The simple launcher leaves no trace of `--num_machines` in the
environment (it sets only MASTER_ADDR and MASTER_PORT), so the launcher's own command line is read: it is the parent
process of the training script, with the simple launcher as with `--multi_gpu` (torchrun's agent runs inside it).
"""

import argparse
import os

import psutil

from ..errors import HfnewsError


LAUNCH_MODULE = "accelerate.commands.launch"  # `python -m accelerate.commands.launch ...`
LAUNCH_CLIS = ("accelerate", "accelerate.commands.accelerate_cli")  # `accelerate launch ...`


def accelerate_launch_args(cmdline: list[str]) -> list[str] | None:
    """The arguments after `launch` of an `accelerate launch` command line, or None for any other command."""
    for index, part in enumerate(cmdline):
        if part == LAUNCH_MODULE:
            return cmdline[index + 1 :]
        if os.path.basename(part) in LAUNCH_CLIS and cmdline[index + 1 : index + 2] == ["launch"]:
            return cmdline[index + 2 :]
    return None


def parse_launch_args(launch_args: list[str]) -> argparse.Namespace | None:
    """`launch_args` as `accelerate launch` reads them, `num_machines` taken from its config file (`--config_file`,
    else accelerate's default one if it exists) when the command line does not set it; None when they do not parse
    (accelerate would have refused them)."""
    from accelerate.commands.config.config_args import default_config_file, load_config_from_file
    from accelerate.commands.launch import launch_command_parser

    try:
        args, _ = launch_command_parser().parse_known_args(launch_args)
    except SystemExit:
        return None
    config_file = args.config_file or (default_config_file if os.path.isfile(default_config_file) else None)
    if config_file is not None and (args.num_machines is None or args.num_processes is None):
        try:
            config = load_config_from_file(config_file)
        except (OSError, ValueError, TypeError):
            return None
        args.num_machines = args.num_machines if args.num_machines is not None else config.num_machines
        args.num_processes = args.num_processes if args.num_processes is not None else config.num_processes
    return args


def check_launch(world_size: int, parent_cmdline: list[str] | None = None) -> None:
    """Stop a run that `accelerate launch` was asked to spread over several machines but that runs alone.

    Args:
        world_size: the processes of the run, all machines together (`WORLD_SIZE`, 1 when unset).
        parent_cmdline: the launcher's command line; by default the parent process's.

    Raises:
        HfnewsError: naming the flag to add (`--multi_gpu`, CPU-only machines too) or to drop (`--cpu`).
    """
    if world_size > 1:
        return
    if parent_cmdline is None:
        try:
            parent_cmdline = psutil.Process().parent().cmdline()
        except (psutil.Error, AttributeError):  # no parent left, or one we may not read: nothing to compare with
            return
    launch_args = accelerate_launch_args(parent_cmdline)
    args = None if launch_args is None else parse_launch_args(launch_args)
    if args is None or max(args.num_machines or 1, args.num_processes or 1) <= 1:
        return
    fix = "drop --cpu, which runs one process per machine" if args.cpu else "add --multi_gpu (CPU-only machines too)"
    if (args.num_machines or 1) > 1:
        asked, alone = f"{args.num_machines} machines", "each machine would train on all the data by itself"
    else:  # one machine: the simple launcher ignores --num_processes
        asked, alone = f"{args.num_processes} processes", "one process would train where you asked for several"
    raise HfnewsError(
        f"accelerate launch was asked for {asked} but started this process alone (world size 1), so {alone}: {fix}"
    )
