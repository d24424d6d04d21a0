"""What every script shares: expected failures end with one clear line instead of a traceback."""

import logging
import sys
import warnings
from collections.abc import Callable

from .download import DownloadError


# Errors whose message already says what is wrong and what to do; anything else is a bug and keeps its traceback.
USER_ERRORS = (ValueError, FileNotFoundError, DownloadError)


def run_cli(main: Callable[[], None]) -> None:
    """Run a script's `main`, turning the errors a user can fix into `error: ...` on stderr and exit status 2."""
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    # torch warns on every DataLoader when pin_memory is set without a GPU; the Trainer sets it for GPU speed.
    warnings.filterwarnings("ignore", message=".*pin_memory.*no accelerator is found")
    try:
        main()
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
