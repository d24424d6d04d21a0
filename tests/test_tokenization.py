import pytest
from transformers import AutoTokenizer

from hfnews.data.tokenization import PAD_TOKEN, UNK_TOKEN, first_words, train_word_tokenizer, words_to_ids


TEXTS = ["b a c a b d", "c c x y z y", "Kardashian: Kardashian"]


def test_ids_rank_words_by_frequency_with_ties_by_word():
    tokenizer = train_word_tokenizer(TEXTS)
    vocab = tokenizer.get_vocab()
    # c x3; a, b, kardashian, y x2 (ties ascending); d, x, z, ':' once -> not in the vocabulary.
    assert vocab == {UNK_TOKEN: 0, "c": 1, "a": 2, "b": 3, "kardashian": 4, "y": 5, PAD_TOKEN: 6}
    assert tokenizer.unk_token_id == 0 and tokenizer.pad_token_id == 6


def test_words_seen_less_than_min_frequency_and_unseen_words_get_zero():
    tokenizer = train_word_tokenizer(TEXTS)
    assert words_to_ids(tokenizer, ["d", "x", "neverseen", "c"]) == [0, 0, 0, 1]
    assert train_word_tokenizer(TEXTS, min_frequency=1).get_vocab()["d"] > 0
    with pytest.raises(ValueError, match="min_frequency must be at least 1"):
        train_word_tokenizer(TEXTS, min_frequency=0)


def test_punctuation_is_split_off_and_case_folded_by_default():
    tokenizer = train_word_tokenizer(TEXTS)
    assert words_to_ids(tokenizer, ["Kardashian:", "KARDASHIAN"]) == [4, 0, 4]
    assert tokenizer("Kardashian: c")["input_ids"] == [4, 0, 1]
    keep_case = train_word_tokenizer(["Apple apple Apple apple"], lowercase=False, min_frequency=1)
    assert words_to_ids(keep_case, ["Apple", "apple", "APPLE"]) == [1, 2, 0]
    whole = train_word_tokenizer(["Kardashian: Kardashian:"], split_punctuation=False)
    assert words_to_ids(whole, ["Kardashian:", "Kardashian"]) == [1, 0]


def test_max_vocab_size_keeps_the_most_frequent_words():
    tokenizer = train_word_tokenizer(TEXTS, max_vocab_size=2)
    assert tokenizer.get_vocab() == {UNK_TOKEN: 0, "c": 1, "a": 2, PAD_TOKEN: 3}


def test_empty_and_punctuation_only_titles_do_not_crash():
    tokenizer = train_word_tokenizer(TEXTS)
    batch = tokenizer(["", "...", "a b"], padding=True)
    assert batch["input_ids"] == [[6, 6, 6], [0, 0, 0], [2, 3, 6]]
    assert batch["attention_mask"] == [[0, 0, 0], [1, 1, 1], [1, 1, 0]]
    assert words_to_ids(tokenizer, []) == []
    with pytest.raises(TypeError, match="sequence of words"):
        words_to_ids(tokenizer, "a b")


def test_save_and_auto_tokenizer_round_trip(tmp_path):
    tokenizer = train_word_tokenizer(TEXTS)
    tokenizer.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    assert loaded.get_vocab() == tokenizer.get_vocab()
    assert loaded.model_input_names == ["input_ids", "attention_mask"]
    assert loaded("Kardashian: C d", padding="max_length", max_length=5)["input_ids"] == [4, 0, 1, 0, 6]
    assert "token_type_ids" not in loaded("a")


def test_max_length_counts_only_the_words_the_model_reads():
    titles = ["a b c d e f", "a b c x y z", "d, e f"]
    assert set(train_word_tokenizer(titles, max_length=3).get_vocab()) == {"a", "b", "c", UNK_TOKEN, PAD_TOKEN}
    assert {"d", "e", "f"} <= set(train_word_tokenizer(titles).get_vocab())  # all words counted: each seen twice


def test_first_words_cuts_after_the_last_word_read():
    splitter = train_word_tokenizer(["a"]).backend_tokenizer.pre_tokenizer
    assert first_words(splitter, "Fed: raises  rates, again", 3) == "Fed: raises"  # ":" is a word of its own
    assert first_words(splitter, "a b", 3) == "a b"
    long = first_words(splitter, "word " * 100_000, 256)
    assert long == ("word " * 256).rstrip()
