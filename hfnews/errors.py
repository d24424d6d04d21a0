"""The one exception type for mistakes a user can fix (a wrong path, a bad option, a damaged file).

`hfnews.cli.run_cli` prints an `HfnewsError` as one `error: ...` line and exits with status 2; every other exception
keeps its traceback: a `ValueError` raised by torch, numpy or transformers is a bug to report, not a user error.
"""


class HfnewsError(ValueError):
    """A user error whose message names the value at fault and what to do instead.

    It subclasses `ValueError` so callers that caught `ValueError` before it existed keep working.
    """
