"""Shared plumbing: settings, database, security, audit, errors, working days."""
