"""This repository's harness, not shipped in the wheel: the benchmark and the three-node swarm harness."""
