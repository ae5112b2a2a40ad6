"""The forkvet GitHub App: verify, record, enqueue on the web side; vet and publish in a worker.

The App never runs code from the repositories it vets: it clones, reads and reports. GPU work
happens in GitHub Actions on the fork's own self-hosted runners.
"""
