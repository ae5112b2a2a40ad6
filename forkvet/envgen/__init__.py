"""Reproducible environments for research code: requirements pinned as of the code's date."""
