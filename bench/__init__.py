"""Benchmarks: each figure printed beside a raw floor measured in the same run (``make bench``)."""
