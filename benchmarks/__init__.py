"""Benchmarks of aef-widgets: interaction latency, throughput and memory against the classic workflow.

Run ``python -m benchmarks`` (``make bench``); ``--quick`` for a small run. The suite generates its inputs
(deterministic synthetic embeddings, written as an int8 COG and as the float64 GeoTIFF geemap/geedim writes),
runs five workloads and writes ``benchmarks/results/latest.json`` and ``latest.md``. Performance is reported as
ratios against baselines measured in the same run, because the machines it runs on are shared and noisy.

1. ``cluster``: k-means of the classic notebook's AOI (3914 x 2101 px), the classic workflow against the library's
   streaming path, each run in a fresh process for its own peak memory;
2. ``probe``: click-to-overlay latency of the real SimilarityProbe widget, cold and warm;
3. ``throughput``: similarity and k-means labelling in Mpx/s, next to a memory-bandwidth bound;
4. ``scaling``: the streaming cluster path at 1, 4 and 16 Mpx;
5. ``read_path``: reading int8 COG windows at full resolution and from overviews.

This package imports nothing heavy, so the child processes measuring the classic workflow load only what it does.
"""
