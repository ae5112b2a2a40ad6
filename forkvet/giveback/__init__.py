"""Giving back: attribution notes, upstream bug-fix pull requests, thank-you issues.
Drafts by default; anything written upstream needs a user's token and explicit opt-in."""
