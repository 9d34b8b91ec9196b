"""Reminders: policy, who gets what when, the at-most-once ledger, and the channels (inbox, email, push)."""
