"""Word embeddings: corpus streaming, SkipGram/CBOW/SGNS training, queries, evaluation, formats.

The shape every module here keeps (the app, the CLI and the benchmarks rely on it):

- ``corpus.py``   ``tokenize(line) -> list[str]`` (lower-case, ``[a-z0-9]+('[a-z]+)?``-like);
                  ``open_corpus(source)`` validates ``"builtin"``, a text file or a folder of
                  ``.txt`` files and streams lines (never the whole file); empty, binary or
                  non-UTF-8 input raises ``UsageError`` with one clear line.
                  ``load_stopwords()`` reads ``assets/stopwords.txt``.
- ``vocab.py``    ``Vocab`` (``words``, ``counts``, ``index``), ``build_vocab(...)``, encoding to
                  an int32 id array, word2vec's subsampling keep-probabilities.
- ``models.py``   ``classic`` (the seed's SkipGram), ``cbow``, ``sgns`` parameter holders.
- ``train.py``    ``WordsConfig`` (dataclass) and ``WordsJob(config)`` with
                  ``run(emit, cancel, pause=None) -> WordsResult`` and a thread-safe
                  ``snapshot() -> Embeddings`` (a copy of the current weights) callable from
                  another thread once :class:`TrainingStarted` was emitted.
- ``query.py``    ``Embeddings``: vectors + vocabulary + (optionally) a context predictor;
                  ``similarity``, ``neighbours``, ``analogy``, ``odd_one_out``, ``context``,
                  ``suggest``; unknown words raise :class:`UnknownWord` (a ``UsageError``).
- ``evaluate.py`` analogy accuracy (questions-words) and Spearman on word-pair files.
- ``formats.py``  word2vec text, TensorBoard projector TSV, our checkpoints; ``load_any(path)``.

Events (from ``engine.jobs`` plus :mod:`engine.words.events`): ``TrainingStarted`` once the
vocabulary is built, ``Progress(job="words", unit="words")``, ``Metric("loss", step, v)`` per
step window, ``EpochEnd`` per epoch, ``Log``, and ``Finished(job="words", ...)`` last.
"""
