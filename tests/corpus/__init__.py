"""The bad-input corpus: sources made at test time from the description table in ``cases.py``."""
