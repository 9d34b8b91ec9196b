from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_device_session_lockout')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ReviewComment',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=36)),
                ('checklist', fields.ForeignKeyField('models.Checklist', source_field='checklist_id', db_constraint=True, to_field='id', related_name='review_comments', on_delete=OnDelete.CASCADE)),
                ('item_key', fields.CharField(default='', max_length=64)),
                ('text', fields.TextField(unique=False)),
                ('author', fields.CharField(max_length=64)),
                ('author_role', fields.CharField(max_length=16)),
                ('device_id', fields.CharField(max_length=36)),
                ('seq', fields.BigIntField()),
                ('created_ms', fields.BigIntField()),
                ('checklist_version', fields.BigIntField()),
            ],
            options={'table': 'review_comment', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A comment on one item of a checklist, or on the whole checklist (`item_key` ""), made by a `comment`'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Checklist',
            name='last_action',
            field=fields.CharField(null=True, max_length=16),
        ),
    ]
