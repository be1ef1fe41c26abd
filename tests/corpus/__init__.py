"""The corpus of hostile and broken submissions (see README.md and make_corpus.py)."""
