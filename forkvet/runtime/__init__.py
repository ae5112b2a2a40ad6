"""Runtime checks: the only part of forkvet that runs a repository's code — on a runner,
under timeouts, in its own process group, with secrets removed from its environment."""
