"""The word-ID vocabulary of problem 80, as a `tokenizers` WordLevel model wrapped for `AutoTokenizer`.

IDs follow the exercise: the most frequent training word gets ID 1, the next ID 2 and so on; words seen fewer than
`min_frequency` times, and words never seen, get ID 0 (`[UNK]`). `[PAD]` takes the first free ID after the last word.
Ties in frequency are broken by the word itself in ascending (Unicode code point) order, which is the rule the
`tokenizers` WordLevel trainer applies, so the ranking is deterministic.

The normaliser and the pre-tokeniser live inside the saved `tokenizer.json`, so training, `pipeline()` and a checkpoint
loaded in another process all split and lower-case a title in exactly the same way.
"""

from collections.abc import Iterable, Sequence

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast


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
) -> PreTrainedTokenizerFast:
    """Rank the words of `texts` (the training split only) by frequency and wrap the result for transformers.

    Args:
        texts: the titles to count words in.
        min_frequency: words seen fewer times map to `[UNK]` (ID 0); the exercise uses 2.
        lowercase: lower-case titles before splitting, so `Apple` and `apple` share an ID.
        split_punctuation: split punctuation off words (`Kardashian:` -> `kardashian`, `:`); otherwise split on
            white space only.
        max_vocab_size: keep at most this many words (the most frequent), `None` for no cap.
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
    tokenizer.train_from_iterator(texts, trainer=trainer)
    tokenizer.add_special_tokens([PAD_TOKEN])  # appended, so it takes the first free ID after the last word
    return wrap_tokenizer(tokenizer)


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
