from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_deadline_rules')]

    initial = False

    operations = [
        ops.CreateModel(
            name='InboxMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user_id', fields.IntField(db_index=True)),
                ('key', fields.CharField(max_length=160)),
                ('title', fields.CharField(max_length=255)),
                ('body', fields.TextField(unique=False)),
                ('url', fields.CharField(default='', max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'inbox_message', 'app': 'models', 'unique_together': (('user_id', 'key'),), 'pk_attr': 'id', 'table_description': 'Every reminder a person got, kept in the app (iPhones without the installed app get no push).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NotifyPrefs',
            fields=[
                ('user_id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('push', fields.BooleanField(default=True)),
                ('email', fields.BooleanField(default=True)),
                ('email_address', fields.CharField(default='', max_length=254)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'notify_prefs', 'app': 'models', 'pk_attr': 'user_id', 'table_description': 'The channels of a person: push and email on or off, and the mailbox email goes to.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PushSubscription',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user_id', fields.IntField(db_index=True)),
                ('endpoint', fields.CharField(max_length=1024)),
                ('endpoint_hash', fields.CharField(unique=True, max_length=64)),
                ('p256dh', fields.CharField(max_length=128)),
                ('auth', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'push_subscription', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The Web Push subscription of a browser (endpoint and keys), deleted when the push service says 404/410.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReminderLedger',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('rule', fields.CharField(max_length=64)),
                ('period', fields.CharField(max_length=16)),
                ('stage', fields.CharField(max_length=16)),
                ('recipient_id', fields.IntField()),
                ('channel', fields.CharField(max_length=32)),
                ('unit_id', fields.IntField(null=True)),
                ('due', fields.DateField(null=True)),
                ('status', fields.CharField(default='sending', max_length=16)),
                ('claim', fields.CharField(max_length=32)),
                ('attempts', fields.IntField(default=1)),
                ('next_try_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reminder_ledger', 'app': 'models', 'unique_together': (('rule', 'period', 'stage', 'recipient_id', 'channel'),), 'pk_attr': 'id', 'table_description': 'One message to one person on one channel. The unique key is the promise of at most once: a row is'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReminderPolicy',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=32)),
                ('policy', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_by', fields.CharField(default='', max_length=64)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'reminder_policy', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The reminder policy of the province as data (one row, key default), edited by the admin.'},
            bases=['Model'],
        ),
    ]
