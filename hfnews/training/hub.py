"""The Hugging Face Hub seen from a training run: `--push_to_hub` is checked before any work is done.

The Trainer only meets the Hub when it builds its repo (after the data is tokenised and the model built) and when it
uploads (after training); without network or credentials the upload fails with a traceback once the training time
is spent. `check_hub_access` asks the Hub who the token belongs to first, so such a run ends at once with one line.
"""

import threading

import transformers.trainer
from transformers import TrainingArguments

from ..errors import HfnewsError


HUB_CHECK_TIMEOUT_S = 10.0  # huggingface_hub's HTTP session has no timeout of its own; a dropped route would hang


def check_hub_access(args: TrainingArguments, timeout: float = HUB_CHECK_TIMEOUT_S) -> None:
    """With `--push_to_hub`, make sure the Hub answers `whoami` for `--hub_token` (else the saved or `HF_TOKEN`
    token) within `timeout` seconds.

    Raises `HfnewsError` when it does not: offline (`HF_HUB_OFFLINE=1`), no token, a token the Hub refuses, no
    network, or no answer in time.
    """
    if not args.push_to_hub:
        return
    outcome: dict = {}

    def ask() -> None:
        try:
            # The client the Trainer itself uploads with, so the check and the upload talk to the same endpoint.
            outcome["user"] = transformers.trainer.hf_api().whoami(token=args.hub_token)
        except Exception as error:  # any failure here means the upload would fail too; the message says which
            outcome["error"] = error

    thread = threading.Thread(target=ask, name="hub-check", daemon=True)  # daemon: a hung request cannot block exit
    thread.start()
    thread.join(timeout)
    fix = "log in with `hf auth login` or set HF_TOKEN (online, HF_HUB_OFFLINE unset), or drop --push_to_hub"
    if thread.is_alive():
        raise HfnewsError(f"--push_to_hub: the Hub did not answer within {timeout:g}s; check the network, {fix}")
    if "error" in outcome:
        error = outcome["error"]
        reason = (str(error).strip() or type(error).__name__).splitlines()[0]
        raise HfnewsError(f"--push_to_hub cannot reach the Hub with a token ({type(error).__name__}: {reason}); {fix}")
