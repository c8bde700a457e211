"""Shared test settings: one torch thread per test process.

The suite runs under pytest-xdist with one worker per core; letting every worker also start a
torch thread pool per core oversubscribes the CPU many times over (small neural tests slow down
by 10x or more on two cores).
"""

import torch

torch.set_num_threads(1)
