"""The benchmark suite (``itss bench``): a large organisation's history, then every step
of the pipeline timed side by side in one run, so that ratios hold on a noisy machine.

``suite`` runs the steps for one history size on its own scratch database, ``steps`` holds
what runs in a child process per step (so that each step's peak memory is its own), and
``results`` compares the figures with the targets and writes them out.
"""
