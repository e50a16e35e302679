"""Helpers shared by the tests: fixture organisations, loading, a loopback SMTP server."""
