"""Stage 1, source files -> `DatasetDict` -> tokenizer -> encoded rows.

`download`, `sources`, `rows`, `split_files` read the UCI corpus in every layout (official zip, newsCorpora.csv,
Kaggle's CSV, problem-50 split files); `corpus` and `corpus_cache` make and cache its DatasetDict (problem 50);
`text_files` and `labelled_data` read users' own files; `tokenization` is problem 80's word-ID vocabulary and the
cutting of long texts; `encoding`, `collation` and `augmentation` turn titles into training rows; `arguments` holds
`DataArguments`. May import: `hfnews.errors`, `hfnews.integrity` and this package only.
"""
