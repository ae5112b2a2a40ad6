"""Known vulnerabilities in a pinned environment: OSV advisories matched with PEP 440 ordering,
and the nearest release that fixes them while keeping the code's major line."""

from forkvet.audit.run import AuditResult, Vulnerability, audit_pins

__all__ = ["AuditResult", "Vulnerability", "audit_pins"]
