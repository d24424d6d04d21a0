"""What every script shares: expected failures end with one clear line instead of a traceback."""

import argparse
import difflib
import logging
import sys
import warnings
from collections.abc import Callable

from tqdm.auto import tqdm

from .errors import HfnewsError


def run_cli(main: Callable[[], None]) -> None:
    """Run a script's `main`, turning an `HfnewsError` into `error: ...` on stderr and exit status 2."""
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    # torch warns on every DataLoader when pin_memory is set without a GPU; the Trainer sets it for GPU speed.
    warnings.filterwarnings("ignore", message=".*pin_memory.*no accelerator is found")
    try:
        main()
    except HfnewsError as error:  # anything else is a bug and keeps its traceback
        # A progress bar the error interrupted would otherwise share the error's line.
        for bar in list(getattr(tqdm, "_instances", ())):
            bar.close()
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


def parse_dataclasses(parser, args: list[str] | None = None) -> tuple:
    """`parser.parse_args_into_dataclasses(args)` (an `HfArgumentParser`), after refusing an unknown flag in one line
    (`reject_unknown`): before the dataclasses check their values, so the mistyped flag is what the user hears of."""
    _, unknown = parser.parse_known_args(args)
    reject_unknown(parser, unknown)
    return parser.parse_args_into_dataclasses(args=args)


def reject_unknown(parser: argparse.ArgumentParser, unknown: list[str]) -> None:
    """Raise `HfnewsError` naming the first argument `parser` does not know and its closest known flag, as argparse
    (3.12 and later) suggests one; nothing when `unknown` is empty.

    `--epochs` suggests `--num_train_epochs`: a flag whose name contains the unknown one wins over the closest
    spelling (`difflib`), which catches typos such as `--learning_rte`.
    """
    if not unknown:
        return
    first = next((item for item in unknown if item.startswith("-")), unknown[0])
    if not first.startswith("-"):
        raise HfnewsError(f"unexpected argument {first!r}: every value follows its --flag; see --help")
    name = first.split("=", 1)[0]
    flags = [flag for flag in parser._option_string_actions if flag.startswith("--")]
    stem = name.lstrip("-").replace("-", "_")
    containing = sorted((flag for flag in flags if stem and stem in flag.lstrip("-")), key=len)
    close = containing[:1] or difflib.get_close_matches(name, flags, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise HfnewsError(f"unknown argument {name}{hint}; see --help for the arguments this script takes")
