"""Known vulnerabilities in a pinned environment: OSV advisories matched with PEP 440 ordering,
and the nearest release that fixes them while keeping the code's major line.

The library entry point is forkvet.audit.run.audit_pins (not re-exported here: the CLI imports
this package to register its subcommand, and `forkvet vet` must not pay for the audit code).
"""
