from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChecklistAlias',
            fields=[
                ('alias_id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=36)),
                ('checklist', fields.ForeignKeyField('models.Checklist', source_field='checklist_id', db_constraint=True, to_field='id', related_name='aliases', on_delete=OnDelete.CASCADE)),
                ('unit_id', fields.IntField()),
                ('created_by', fields.CharField(default='', max_length=64)),
                ('device_id', fields.CharField(default='', max_length=36)),
                ('created_ms', fields.BigIntField()),
            ],
            options={'table': 'checklist_alias', 'app': 'models', 'pk_attr': 'alias_id', 'table_description': 'A checklist id a phone made for a unit/template/period that already had a checklist: edits'},
            bases=['Model'],
        ),
    ]
