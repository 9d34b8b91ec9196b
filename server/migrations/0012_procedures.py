from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_evidence_hardening')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Procedure',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('unit', fields.ForeignKeyField('models.Unit', source_field='unit_id', db_constraint=True, to_field='id', related_name='procedures', on_delete=OnDelete.RESTRICT)),
                ('code', fields.CharField(default='', max_length=32)),
                ('name', fields.TextField(unique=False)),
                ('name_folded', fields.TextField(unique=False)),
                ('field', fields.CharField(default='', max_length=255)),
                ('in_system_on', fields.DateField(null=True)),
                ('note', fields.TextField(default='', unique=False)),
                ('created_by', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('removed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('removed_by', fields.CharField(default='', max_length=64)),
            ],
            options={'table': 'tthc_procedure', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One administrative procedure (thủ tục hành chính) a unit has brought into its quality system.'},
            bases=['Model'],
        ),
    ]
