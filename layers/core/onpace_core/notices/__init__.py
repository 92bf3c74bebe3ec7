"""Notices: the evaluator's decisions recorded once in the outbox, rendered for people."""
