"""The word-ID vocabulary of problem 80, as a `tokenizers` WordLevel model wrapped for `AutoTokenizer`.

IDs follow the exercise: the most frequent training word gets ID 1, the next ID 2 and so on; words seen fewer than
`min_frequency` times, and words never seen, get ID 0 (`[UNK]`). `[PAD]` takes the first free ID after the last word.
Ties in frequency are broken by the word itself in ascending (Unicode code point) order, which is the rule the
`tokenizers` WordLevel trainer applies, so the ranking is deterministic.

The normaliser and the pre-tokeniser live inside the saved `tokenizer.json`, so training, `pipeline()` and a checkpoint
loaded in another process all split and lower-case a title in exactly the same way.
"""

import logging
from collections.abc import Callable, Iterable, Sequence

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from transformers import BatchEncoding, PreTrainedTokenizerBase, PreTrainedTokenizerFast


logger = logging.getLogger(__name__)

UNK_TOKEN = "[UNK]"
PAD_TOKEN = "[PAD]"
MODEL_INPUT_NAMES = ["input_ids", "attention_mask"]


def train_word_tokenizer(
    texts: Iterable[str],
    *,
    min_frequency: int = 2,
    lowercase: bool = True,
    split_punctuation: bool = True,
    max_vocab_size: int | None = None,
    max_length: int | None = None,
) -> PreTrainedTokenizerFast:
    """Rank the words of `texts` (the training split only) by frequency and wrap the result for transformers.

    Args:
        texts: the titles to count words in.
        min_frequency: words seen fewer times map to `[UNK]` (ID 0); the exercise uses 2.
        lowercase: lower-case titles before splitting, so `Apple` and `apple` share an ID.
        split_punctuation: split punctuation off words (`Kardashian:` -> `kardashian`, `:`); otherwise split on
            white space only.
        max_vocab_size: keep at most this many words (the most frequent), `None` for no cap.
        max_length: count only the first `max_length` words of each title, the ones the model reads (its
            `model_max_length`); `None` counts every word. Headlines are far shorter than any limit; the bound keeps
            one pasted article or damaged line from being split whole (the `tokenizers` pre-tokenizer keeps about
            64 bytes per character of a text: 640 MB for a 10 MB line).
    """
    if min_frequency < 1:
        raise ValueError(f"min_frequency must be at least 1, got {min_frequency}")
    if max_vocab_size is not None and max_vocab_size < 1:
        raise ValueError(f"max_vocab_size must be positive or None, got {max_vocab_size}")
    tokenizer = Tokenizer(models.WordLevel(unk_token=UNK_TOKEN))
    if lowercase:
        tokenizer.normalizer = normalizers.Lowercase()
    splitters = [pre_tokenizers.WhitespaceSplit()]
    if split_punctuation:
        splitters.append(pre_tokenizers.Punctuation(behavior="isolated"))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(splitters)
    # The trainer's vocab_size counts the special token too.
    vocab_size = max_vocab_size + 1 if max_vocab_size is not None else 2**31 - 1
    trainer = trainers.WordLevelTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[UNK_TOKEN], show_progress=False
    )
    if max_length is not None:  # a list, not a generator: training holds the pre-tokenizer that first_words uses
        texts = [first_words(tokenizer.pre_tokenizer, text, max_length) for text in texts]
    tokenizer.train_from_iterator(texts, trainer=trainer)
    tokenizer.add_special_tokens([PAD_TOKEN])  # appended, so it takes the first free ID after the last word
    return wrap_tokenizer(tokenizer)


def first_words(pre_tokenizer: pre_tokenizers.PreTokenizer, text: str, max_length: int) -> str:
    """The prefix of `text` that holds its first `max_length` words as `pre_tokenizer` splits them (`text` itself
    when it holds no more), found in memory bounded by the prefix (`clip_text`)."""
    if len(text) <= max_length:  # every word spans one character at least
        return text
    clipped = clip_text(lambda part: len(pre_tokenizer.pre_tokenize_str(part)), text, max_length)
    words = pre_tokenizer.pre_tokenize_str(clipped)
    return clipped if len(words) <= max_length else clipped[: words[max_length - 1][1][1]]


def wrap_tokenizer(tokenizer: Tokenizer) -> PreTrainedTokenizerFast:
    """Wrap a raw `tokenizers.Tokenizer` so `save_pretrained`, `AutoTokenizer` and `pipeline()` understand it."""
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token=UNK_TOKEN,
        pad_token=PAD_TOKEN,
        # No token_type_ids: the news models' forward() does not take them.
        model_input_names=MODEL_INPUT_NAMES,
    )


def words_to_ids(tokenizer: PreTrainedTokenizerFast, words: Sequence[str]) -> list[int]:
    """Problem 80's function: the ID sequence of a word sequence, with the tokenizer's own normalisation.

    A word the pre-tokeniser splits further (`Kardashian:`) yields one ID per piece.
    """
    if isinstance(words, str):
        raise TypeError("words_to_ids takes a sequence of words; pass title.split() or use tokenizer(title)")
    if not words:
        return []
    return tokenizer(list(words), is_split_into_words=True, add_special_tokens=False)["input_ids"]


# The default `--max_length` of the word-ID models, in tokens: the longest of the 18,159 development titles has 36
# tokens (20 words and their punctuation), so no headline is cut, while a pasted article or a damaged file with
# megabytes on one line is read only this far. Without a bound, one 10 MB title padded a batch to 77 GB.
WORD_ID_MAX_LENGTH = 256
WORD_ID_MODEL_PREFIX = "hfnews-"  # the model_type of the RNN and CNN (`hfnews.models`)
# transformers' "no limit" (`VERY_LARGE_INTEGER`, int(1e30)): a tokenizer saved without `model_max_length`.
UNLIMITED_LENGTH = int(1e29)
# Characters tokenized per allowed token before a long text is clipped (doubled until enough): English runs at about
# 6 characters a word, so the first window nearly always holds more tokens than the limit.
_CLIP_CHARS_PER_TOKEN = 32


def max_input_length(tokenizer: PreTrainedTokenizerBase) -> int | None:
    """The most tokens the tokenizer's model reads (`model_max_length`: 512 for BERT, `--max_length` or
    `WORD_ID_MAX_LENGTH` for a word-ID model trained by hfnews), `None` when it was saved without a limit."""
    length = getattr(tokenizer, "model_max_length", None)
    return length if length is not None and length < UNLIMITED_LENGTH else None


def input_length_limit(tokenizer: PreTrainedTokenizerBase, model_type: str | None) -> int | None:
    """The tokens read of each text: `max_input_length`, or `WORD_ID_MAX_LENGTH` for an hfnews word-ID checkpoint
    (`model_type` `hfnews-rnn`/`hfnews-cnn`) saved before hfnews recorded its limit, so that one huge line cannot
    exhaust memory; `None` (no limit) for another model whose tokenizer has none."""
    limit = max_input_length(tokenizer)
    if limit is None and model_type is not None and model_type.startswith(WORD_ID_MODEL_PREFIX):
        return WORD_ID_MAX_LENGTH
    return limit


def clip_text(tokenizer: PreTrainedTokenizerBase | Callable[[str], int], text: str, max_length: int) -> str:
    """A prefix of `text` whose tokens begin with the first `max_length` tokens of `text`, so tokenizing it with
    truncation gives what tokenizing `text` would, in memory bounded by the prefix rather than by `text`.

    `tokenizer` is a transformers tokenizer, or a function giving the number of tokens of a text without special
    tokens (the ONNX path's `tokenizers.Tokenizer`). The prefix ends at white space (the pre-tokenizers of WordLevel
    and BERT split words there and never join across it) and is doubled until it holds more than `max_length`
    tokens; a text too short to need it comes back whole.
    """
    count = tokenizer if callable(tokenizer) and not isinstance(tokenizer, PreTrainedTokenizerBase) else None
    window = _CLIP_CHARS_PER_TOKEN * max_length
    while window < len(text):
        cut = max(text.rfind(space, 0, window) for space in " \t\n\r")
        if cut > 0:
            prefix = text[:cut]
            tokens = (
                count(prefix)
                if count
                else len(tokenizer(prefix, add_special_tokens=False, verbose=False)["input_ids"])
            )
            if tokens > max_length:
                return prefix
        window *= 2
    return text


def encode_truncated(
    tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int | None, **kwargs
) -> tuple[BatchEncoding, int]:
    """`tokenizer(texts, truncation=True, max_length=max_length, **kwargs)` (special tokens included in the count),
    each text first clipped by `clip_text`, and how many texts were cut (held more than `max_length` tokens).
    `max_length=None` reads every text whole (0 cut)."""
    if max_length is None:
        return tokenizer(list(texts), **kwargs), 0
    clipped = [clip_text(tokenizer, text, max_length) for text in texts]
    encoding = tokenizer(clipped, truncation=True, max_length=max_length, **kwargs)
    cut = sum(short is not text for short, text in zip(clipped, texts))
    # A text of exactly max_length tokens may or may not have been cut: one more token tells.
    # Every token spans at least one character, so only texts of max_length - 2 characters or more need the check.
    full = [i for i, (short, text) in enumerate(zip(clipped, texts)) if short is text and len(text) >= max_length - 2]
    if full:
        longer = tokenizer([texts[i] for i in full], truncation=True, max_length=max_length + 1)["input_ids"]
        cut += sum(len(ids) > max_length for ids in longer)
    return encoding, cut


def report_cut(cut: int, total: int, max_length: int | None) -> None:
    """Say how many of `total` texts held more than `max_length` tokens and were read only that far."""
    if cut:
        logger.info("%s of %s text(s) longer than %d tokens: each read to its first %d", f"{cut:,}", f"{total:,}",
                    max_length, max_length)  # fmt: skip
