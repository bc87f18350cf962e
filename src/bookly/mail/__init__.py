"""Email: the transactional outbox, its dispatcher, templates, and the SMTP and file senders."""
