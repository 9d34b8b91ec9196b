"""The reminder tables: the policy, the ledger that makes every send happen at most once, the phones'
push subscriptions, each person's channel choices and the in-app inbox."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["InboxMessage", "NotifyPrefs", "PushSubscription", "ReminderLedger", "ReminderPolicy"]


class ReminderPolicy(Model):
    """The reminder policy of the province as data (one row, key default), edited by the admin."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=32, unique=True)
    policy = fields.JSONField()
    updated_by = fields.CharField(max_length=64, default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "reminder_policy"


class ReminderLedger(Model):
    """One message to one person on one channel. The unique key is the promise of at most once: a row is
    claimed (inserted, committed) before anything is sent, and only the process that inserted it sends."""

    id = fields.BigIntField(primary_key=True)
    rule = fields.CharField(max_length=64)  # deadline id, or "summary" for a reviewer's daily summary
    period = fields.CharField(max_length=16)  # the report period, or the summary's date
    stage = fields.CharField(max_length=16)  # before-7, after-1, after-8, daily …
    recipient_id = fields.IntField()  # user id
    channel = fields.CharField(max_length=32)  # inbox, email, push:<subscription id>
    unit_id = fields.IntField(null=True)
    due = fields.DateField(null=True)
    status = fields.CharField(max_length=16, default="sending")  # sending / sent / failed / gone
    claim = fields.CharField(max_length=32)  # which run owns the row now
    attempts = fields.IntField(default=1)
    next_try_at = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "reminder_ledger"
        unique_together = (("rule", "period", "stage", "recipient_id", "channel"),)


class PushSubscription(Model):
    """The Web Push subscription of a browser (endpoint and keys), deleted when the push service says 404/410."""

    id = fields.IntField(primary_key=True)
    user_id = fields.IntField(db_index=True)
    endpoint = fields.CharField(max_length=1024)
    endpoint_hash = fields.CharField(max_length=64, unique=True)
    p256dh = fields.CharField(max_length=128)
    auth = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "push_subscription"


class NotifyPrefs(Model):
    """The channels of a person: push and email on or off, and the mailbox email goes to."""

    user_id = fields.IntField(primary_key=True)
    push = fields.BooleanField(default=True)
    email = fields.BooleanField(default=True)
    email_address = fields.CharField(max_length=254, default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "notify_prefs"


class InboxMessage(Model):
    """Every reminder a person got, kept in the app (iPhones without the installed app get no push)."""

    id = fields.BigIntField(primary_key=True)
    user_id = fields.IntField(db_index=True)
    key = fields.CharField(max_length=160)  # rule/period/stage: the same reminder is one message
    title = fields.CharField(max_length=255)
    body = fields.TextField()
    url = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inbox_message"
        unique_together = (("user_id", "key"),)
