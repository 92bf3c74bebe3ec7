"""Delivery: outbox notices as raw MIME through SES, once per recipient, with audit evidence."""
