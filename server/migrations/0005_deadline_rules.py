from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# Deadline rules as data (issue 15): each rule names its source document and the period it expects, and
# says whether it binds this province. The two recurring rules seeded before came from other provinces'
# documents (Thừa Thiên Huế's notice, An Giang's letter) and counted "trước ngày X" as day X: they are
# renamed, kept as data that does not bind, and given the last day allowed (X - 1).
_REKEY = [
    "UPDATE deadline SET code = 'HUE-MONTHLY-REPORT', binding = false, recurrence = 'monthly:21', "
    "period_kind = 'month' WHERE code = 'KT-MONTHLY-REPORT'",
    "UPDATE deadline SET code = 'AG-ANNUAL-REPORT', binding = false, recurrence = 'yearly:06-29', "
    "period_kind = 'year', period_offset = -1 WHERE code = 'KT-ANNUAL-REPORT'",
]


class Migration(migrations.Migration):
    dependencies = [('models', '0003_device_session_lockout')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Deadline',
            name='binding',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AddField(
            model_name='Deadline',
            name='period_kind',
            field=fields.CharField(default='once', db_default='once', max_length=16),
        ),
        ops.AddField(
            model_name='Deadline',
            name='period_offset',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Deadline',
            name='source_date',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='Deadline',
            name='source_issuer',
            field=fields.CharField(default='', db_default='', max_length=255),
        ),
        ops.AddField(
            model_name='Deadline',
            name='source_number',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='Deadline',
            name='source_quote',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='Deadline',
            name='starts_on',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='Deadline',
            name='updated_at',
            field=fields.DatetimeField(null=True, auto_now=True, auto_now_add=False),
        ),
        ops.RunSQL(_REKEY, reverse_sql=ops.RunSQL.noop),
    ]
