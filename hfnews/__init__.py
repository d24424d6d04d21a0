"""hfnews: news-headline classifiers (NLP 100 problems 80-89) trained and served the HuggingFace way.

Importing the package registers the RNN and CNN classifiers with `AutoConfig` and
`AutoModelForSequenceClassification`, so `from_pretrained` and `pipeline()` find them.
"""

from .data import LABEL_NAMES, load_news_corpus, load_prepared_corpus, save_corpus
from .models import (
    NewsCNNConfig,
    NewsCNNForSequenceClassification,
    NewsRNNConfig,
    NewsRNNForSequenceClassification,
)
from .tokenization import train_word_tokenizer, words_to_ids


__version__ = "0.1.0"

__all__ = [
    "LABEL_NAMES",
    "NewsCNNConfig",
    "NewsCNNForSequenceClassification",
    "NewsRNNConfig",
    "NewsRNNForSequenceClassification",
    "load_news_corpus",
    "load_prepared_corpus",
    "save_corpus",
    "train_word_tokenizer",
    "words_to_ids",
]
