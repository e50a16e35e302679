"""The monthly report e-mails: recipients, messages, SMTP transport or outbox, and the send log."""
