from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0002_checklist_alias')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Device',
            name='registration_key',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Device',
            name='session_id',
            field=fields.IntField(null=True),
        ),
        ops.AddConstraint(
            model_name='Device',
            constraint=UniqueConstraint(fields=('user', 'registration_key'), name=None),
        ),
        ops.AddField(
            model_name='Session',
            name='ended_reason',
            field=fields.CharField(default='', db_default='', max_length=32),
        ),
    ]
