"""The distillation transfer set's perturbed titles (hfnews.data.augmentation, after Tang et al. 2019)."""

import pytest

from hfnews.data.augmentation import augment_titles


TITLES = ["Fed raises rates again as inflation climbs", "Apple unveils a new iPhone", "Ebola", ""]


def test_the_same_seed_gives_the_same_copies_and_another_seed_others():
    first = augment_titles(TITLES, copies=5, seed=3)
    assert first.words == augment_titles(TITLES, copies=5, seed=3).words
    assert first.words != augment_titles(TITLES, copies=5, seed=4).words


def test_masking_every_word_writes_the_given_mask_token():
    augmented = augment_titles(TITLES[:2], copies=1, seed=0, p_mask=1.0, p_ngram=0.0)
    assert augmented.render("[MASK]") == ["[MASK] " * 6 + "[MASK]", "[MASK] [MASK] [MASK] [MASK] [MASK]"]
    assert augmented.render("[UNK]")[1] == "[UNK] [UNK] [UNK] [UNK] [UNK]"


def test_ngram_sampling_keeps_a_contiguous_run_of_one_to_five_words_never_the_whole_title():
    title = TITLES[0].split()
    augmented = augment_titles(TITLES[:1], copies=200, seed=1, p_mask=0.0, p_ngram=1.0)
    assert len(augmented) == 200  # 7 words > 5: an n-gram is never the whole title, so no copy is dropped
    lengths = {len(copy) for copy in augmented.words}
    assert lengths == {1, 2, 3, 4, 5}
    for copy in augmented.words:
        starts = [i for i in range(len(title)) if title[i : i + len(copy)] == copy]
        assert starts, copy


def test_copies_equal_to_their_title_and_empty_titles_are_left_out():
    # No mask, no n-gram: every copy is the title itself.
    assert len(augment_titles(TITLES, copies=3, seed=0, p_mask=0.0, p_ngram=0.0)) == 0
    # "Ebola" can only be masked; the empty title gives nothing.
    augmented = augment_titles(TITLES[2:], copies=50, seed=0, p_mask=0.5, p_ngram=0.0)
    assert augmented.words and all(copy == [None] for copy in augmented.words)


def test_mask_rate_is_close_to_p_mask():
    augmented = augment_titles(TITLES[:2] * 200, copies=5, seed=0, p_mask=0.1, p_ngram=0.0)
    words = [word for copy in augmented.words for word in copy]
    # Copies without a mask are dropped (equal to their title): count over all 2,000 draws of 6 words on average.
    assert sum(word is None for word in words) / (2000 * 6) == pytest.approx(0.1, abs=0.01)


@pytest.mark.parametrize(("copies", "p_mask", "max_ngram"), [(-1, 0.1, 5), (1, 1.5, 5), (1, 0.1, 0)])
def test_bad_settings_raise(copies, p_mask, max_ngram):
    with pytest.raises(ValueError):
        augment_titles(TITLES, copies=copies, seed=0, p_mask=p_mask, max_ngram=max_ngram)


def test_copies_that_read_as_a_held_out_title_are_left_out():
    augmented = augment_titles(TITLES[:1], copies=200, seed=1, p_mask=0.0, p_ngram=1.0)
    held_out = ["raises  rates", "inflation climbs", "Some other title"]
    kept = augmented.excluding(held_out)
    assert ["raises", "rates"] in augmented.words and ["inflation", "climbs"] in augmented.words
    assert kept.words == [c for c in augmented.words if c not in (["raises", "rates"], ["inflation", "climbs"])]
