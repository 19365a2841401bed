"""Shared helpers for protocol-level tests (SMTP, IMAP, TLS) and the lab."""
