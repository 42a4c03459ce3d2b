"""Root pytest configuration: tests and doctests never reach the Hugging Face hub."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # hub lookups fail at once instead of retrying for ~25 s
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
