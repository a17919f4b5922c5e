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
- ``events.py``   ``WordsConfig`` / ``EvalConfig`` (every field declared once), the events and
                  results; torch-free.
- ``train.py``    the job ``train_words(config, emit, cancel, pause) -> WordsResult``; its
                  ``TrainingStarted`` event carries a thread-safe ``snapshot() -> Embeddings``
                  (a copy of the current weights) for queries while it trains.
- ``vectors.py``  trained weights -> ``Embeddings``, for trainers, checkpoints and the untrained
                  model the console compares with.
- ``query.py``    ``Embeddings``: vectors + vocabulary + (optionally) a context predictor;
                  ``similarity``, ``neighbours``, ``analogy``, ``odd_one_out``, ``context``,
                  ``suggest``; unknown words raise :class:`UnknownWord` (a ``UsageError``).
- ``evaluate.py`` analogy accuracy (questions-words) and Spearman on word-pair files, and the job
                  ``evaluate_vectors(config, emit, cancel, pause) -> EvalResult``.
- ``formats.py``  word2vec text, TensorBoard projector TSV, our checkpoints; ``load_any(path)``.

Events (from ``engine.jobs`` plus :mod:`engine.words.events`): ``TrainingStarted`` once the
vocabulary is built, ``Progress(job="words", unit="words")``, ``Metric("loss", step, v)`` per
step window, ``EpochEnd`` per epoch, ``Log``, and ``Finished(job="words", ...)`` last.
"""
