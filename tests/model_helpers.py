"""Tiny NewsRNN/NewsCNN models, a word tokenizer and padded random batches for the model tests."""

from pathlib import Path

import torch
from helpers import TINY_TITLES
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    BertTokenizerFast,
    PreTrainedModel,
    PreTrainedTokenizerFast,
)

from hfnews.data.corpus import LABEL_NAMES
from hfnews.data.tokenization import train_word_tokenizer
from hfnews.models import (
    NewsCNNConfig,
    NewsCNNForSequenceClassification,
    NewsRNNConfig,
    NewsRNNForSequenceClassification,
)


HEADLINES = [
    "Stocks rally as Fed holds interest rates steady",
    "Apple unveils new iPhone with bigger screen",
    "Kim Kardashian and Kanye West wedding photos",
    "Ebola outbreak spreads in West Africa, WHO says",
    "Oil prices fall on weak demand from China",
    "NASA probe sends new images of Mars",
]
# The start of a child-process script in which hfnews cannot be imported, as on a machine that has only a saved
# checkpoint folder; it exits early if hfnews is still importable, since the test would then prove nothing.
BLOCK_HFNEWS = """
import importlib.abc, json, sys

class BlockHfnews(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "hfnews":
            raise ModuleNotFoundError(f"{name} is blocked in this process")

sys.meta_path.insert(0, BlockHfnews())
try:
    import hfnews  # noqa: F401
except ModuleNotFoundError:
    pass
else:
    sys.exit("hfnews is importable, so the test would not show that the saved folder stands alone")

"""
VOCAB_SIZE = 30
PAD_ID = VOCAB_SIZE - 1  # like the hfnews tokenizer: [PAD] after the words
# Large random word vectors, so that reading a padding position would visibly move the logits.
TINY_CONFIGS = {
    "rnn": {"embedding_dim": 8, "hidden_size": 6, "initializer_range": 1.0},
    "cnn": {"embedding_dim": 8, "num_filters": 6, "initializer_range": 1.0},
}
MODELS = {
    "rnn": (NewsRNNConfig, NewsRNNForSequenceClassification),
    "cnn": (NewsCNNConfig, NewsCNNForSequenceClassification),
}


def headline_tokenizer() -> PreTrainedTokenizerFast:
    return train_word_tokenizer(HEADLINES, min_frequency=1)


def tiny_model(kind: str, *, vocab_size: int = VOCAB_SIZE, pad_token_id: int | None = PAD_ID, **config_kwargs):
    """A seeded, randomly initialised model in eval mode with the four news labels."""
    config_class, model_class = MODELS[kind]
    config = config_class(
        vocab_size=vocab_size,
        pad_token_id=pad_token_id,
        id2label=dict(enumerate(LABEL_NAMES)),
        label2id={name: i for i, name in enumerate(LABEL_NAMES)},
        **{**TINY_CONFIGS[kind], **config_kwargs},
    )
    torch.manual_seed(0)
    return model_class(config).eval()


def randomize_biases(model: PreTrainedModel) -> PreTrainedModel:
    """Give every bias a random value: with the zero biases of the initialisation, a zero state, a zero vector and
    an empty window would all look alike."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "bias" in name:
                param.copy_(torch.randn(param.shape, generator=generator))
    return model


def padded_batch(lengths: list[int], *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random word ids (never the pad id), right-padded with PAD_ID to the longest length, and their attention mask."""
    generator = torch.Generator().manual_seed(seed)
    width = max(lengths, default=0)
    input_ids = torch.full((len(lengths), width), PAD_ID)
    attention_mask = torch.zeros((len(lengths), width), dtype=torch.long)
    for row, length in enumerate(lengths):
        input_ids[row, :length] = torch.randint(1, PAD_ID, (length,), generator=generator)
        attention_mask[row, :length] = 1
    return input_ids, attention_mask


def assert_padding_invariant(model: PreTrainedModel) -> None:
    """A title's logits are the same alone, beside much longer titles, left- instead of right-padded, and without
    an attention mask (the pad id then marks the padding). The padding row gets a non-zero vector, as pretrained
    vectors may give it, so padded positions must be masked, not merely looked up."""
    randomize_biases(model)
    input_ids, attention_mask = padded_batch([4, 17, 1, 25])
    with torch.no_grad():
        model.get_input_embeddings().weight[PAD_ID].normal_()
        batched = model(input_ids, attention_mask=attention_mask).logits
        for row in range(len(input_ids)):
            length = int(attention_mask[row].sum())
            alone = model(input_ids[row : row + 1, :length]).logits[0]
            torch.testing.assert_close(batched[row], alone, rtol=0, atol=1e-5)
        pads = (attention_mask == 0).sum(dim=1)
        left_ids = torch.stack([torch.roll(ids, int(shift)) for ids, shift in zip(input_ids, pads, strict=True)])
        left = model(left_ids, attention_mask=left_ids.ne(PAD_ID).long()).logits
        unmasked = model(input_ids).logits
    torch.testing.assert_close(left, batched, rtol=0, atol=1e-5)
    # Exact on purpose: one computation, not two. The mask derived from the pad id equals the given one, so the same
    # weights, input and shapes run the same kernels; any difference would mean the mask is read differently.
    torch.testing.assert_close(unmasked, batched, rtol=0, atol=0)


def assert_logits_and_loss(model: PreTrainedModel) -> None:
    """Logits of shape (batch, 4); with labels, the mean cross-entropy; return_dict=False gives (loss, logits)."""
    input_ids, attention_mask = padded_batch([3, 5, 2])
    labels = torch.tensor([0, 3, 1])
    output = model(input_ids, attention_mask=attention_mask, labels=labels)
    assert output.logits.shape == (3, 4)
    torch.testing.assert_close(output.loss, torch.nn.functional.cross_entropy(output.logits, labels))
    loss, logits = model(input_ids, attention_mask=attention_mask, labels=labels, return_dict=False)
    torch.testing.assert_close(loss, output.loss)
    torch.testing.assert_close(logits, output.logits)
    assert model(input_ids, attention_mask=attention_mask).loss is None


def assert_gradients_reach_embedding(model: PreTrainedModel) -> None:
    """Training updates the vectors of the words in the batch, never the padding row."""
    model.train()
    input_ids, attention_mask = padded_batch([3, 6])
    model(input_ids, attention_mask=attention_mask, labels=torch.tensor([1, 2])).loss.backward()
    grad = model.get_input_embeddings().weight.grad
    used = input_ids[attention_mask.bool()].unique()
    assert (grad[used].abs().sum(dim=1) > 0).all()
    assert grad[PAD_ID].abs().sum() == 0


def assert_empty_titles_defined(kind: str, **config_kwargs) -> None:
    """An empty string tokenizes to no token at all; its prediction is that of a single zero vector."""
    tokenizer = headline_tokenizer()
    model = randomize_biases(
        tiny_model(kind, vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **config_kwargs)
    )
    batch = tokenizer(["", HEADLINES[0], ""], padding=True, return_tensors="pt")
    assert batch["attention_mask"][0].sum() == 0
    with torch.no_grad():
        logits = model(**batch).logits
        no_tokens = model(torch.empty((2, 0), dtype=torch.long)).logits
        # The [PAD] row of the embedding is zero, so an unmasked [PAD] is "one zero vector".
        zero_vector = model(torch.tensor([[tokenizer.pad_token_id]]), attention_mask=torch.tensor([[1]])).logits
    assert torch.isfinite(logits).all()
    torch.testing.assert_close(logits[0], zero_vector[0], rtol=0, atol=1e-6)
    torch.testing.assert_close(logits[2], zero_vector[0], rtol=0, atol=1e-6)
    torch.testing.assert_close(no_tokens, zero_vector.expand(2, -1), rtol=0, atol=1e-6)


def save_tiny_bert(folder: Path, label_names: list[str]) -> Path:
    """A random BERT classifier over `label_names` with a WordPiece tokenizer of the tiny headlines."""
    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.BertNormalizer(lowercase=True)
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    wordpiece.train_from_iterator(
        [title for _, title in TINY_TITLES], trainer=trainers.WordPieceTrainer(vocab_size=200, special_tokens=specials)
    )
    cls_id, sep_id = wordpiece.token_to_id("[CLS]"), wordpiece.token_to_id("[SEP]")
    wordpiece.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    tokenizer = BertTokenizerFast(
        tokenizer_object=wordpiece, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]",
        mask_token="[MASK]",
    )  # fmt: skip
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
        max_position_embeddings=64, pad_token_id=tokenizer.pad_token_id, num_labels=len(label_names),
        id2label=dict(enumerate(label_names)), label2id={name: i for i, name in enumerate(label_names)},
    )  # fmt: skip
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def save_word_model(folder: Path, kind: str, **config_kwargs) -> Path:
    """A tiny random CNN or RNN with random biases and the headline tokenizer, saved to `folder`."""
    tokenizer = headline_tokenizer()
    model = tiny_model(kind, vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **config_kwargs)
    randomize_biases(model).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
