"""What every script shares: expected failures end with one clear line instead of a traceback."""

import logging
import sys
import warnings
from collections.abc import Callable

from .errors import HfnewsError


def run_cli(main: Callable[[], None]) -> None:
    """Run a script's `main`, turning an `HfnewsError` into `error: ...` on stderr and exit status 2."""
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    # torch warns on every DataLoader when pin_memory is set without a GPU; the Trainer sets it for GPU speed.
    warnings.filterwarnings("ignore", message=".*pin_memory.*no accelerator is found")
    try:
        main()
    except HfnewsError as error:  # anything else is a bug and keeps its traceback
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
