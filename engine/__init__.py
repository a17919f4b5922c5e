"""advtui's computation: attacks, sweeps, classifiers and word embeddings. Never imports a UI."""
