"""A larger transfer set for distillation: perturbed copies of the training titles that only the teacher labels.

The rules are those of Tang et al., "Distilling Task-Specific Knowledge from BERT into Simple Neural Networks"
(2019, section 3.3), without their part-of-speech swaps (they need a tagger): each word is masked with probability
`p_mask`, then with probability `p_ngram` only a random n-gram of the title is kept (n uniform in 1..`max_ngram`, at
most the title's length).
A masked word is written as the teacher's mask token for the teacher (BERT was pre-trained to read `[MASK]`) and as
the student's unknown token (`[UNK]`, word ID 0) for the student, as in the paper. The copies carry no gold label:
the student learns them from the teacher's soft targets alone (`hfnews.training.distillation`).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


P_MASK = 0.1  # Tang et al. 2019, section 4.2
P_NGRAM = 0.25
MAX_NGRAM = 5


@dataclass(frozen=True)
class AugmentedTitles:
    """Perturbed titles, as word lists where `None` marks a masked word; `render` writes them for a tokenizer."""

    words: list[list[str | None]]

    def render(self, mask_token: str) -> list[str]:
        """The titles as text, each masked word written as `mask_token`, words joined by single spaces."""
        return [" ".join(mask_token if word is None else word for word in title) for title in self.words]

    def __len__(self) -> int:
        return len(self.words)

    def excluding(self, titles: Iterable[str]) -> "AugmentedTitles":
        """These copies less those that read as one of `titles` (words compared after splitting on white space): an
        n-gram of a training title can be a whole validation or test title, which the student must not learn from
        its teacher."""
        held_out = {tuple(title.split()) for title in titles}
        return AugmentedTitles([copy for copy in self.words if tuple(copy) not in held_out])


def augment_titles(
    texts: Sequence[str],
    copies: int,
    seed: int,
    p_mask: float = P_MASK,
    p_ngram: float = P_NGRAM,
    max_ngram: int = MAX_NGRAM,
) -> AugmentedTitles:
    """Up to `copies` perturbed copies of each title (words split on white space), in title order.

    The same `texts`, `copies` and `seed` always give the same copies. A copy equal to its title (nothing masked, no
    n-gram kept) is left out, as are empty titles, so a title may get fewer than `copies`.

    Raises:
        ValueError: if `copies` is negative, a probability lies outside [0, 1] or `max_ngram` is below 1.
    """
    if copies < 0:
        raise ValueError(f"copies must be 0 or more, got {copies}")
    if not (0 <= p_mask <= 1 and 0 <= p_ngram <= 1):
        raise ValueError(f"p_mask and p_ngram must lie in [0, 1], got {p_mask} and {p_ngram}")
    if max_ngram < 1:
        raise ValueError(f"max_ngram must be at least 1, got {max_ngram}")
    rng = np.random.default_rng(seed)
    augmented: list[list[str | None]] = []
    for text in texts:
        words = text.split()
        if not words:
            continue
        for _ in range(copies):
            masked = rng.random(len(words)) < p_mask
            copy: list[str | None] = [None if hide else word for word, hide in zip(words, masked, strict=True)]
            if rng.random() < p_ngram:
                n = min(int(rng.integers(1, max_ngram + 1)), len(copy))
                start = int(rng.integers(0, len(copy) - n + 1))
                copy = copy[start : start + n]
            if copy != words:
                augmented.append(copy)
    return AugmentedTitles(augmented)
