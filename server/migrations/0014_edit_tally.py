from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0013_login_failure_at_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EditTally',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('outcome', fields.CharField(max_length=16)),
                ('reason', fields.CharField(default='', max_length=64)),
                ('n', fields.BigIntField(default=0)),
            ],
            options={'table': 'edit_tally', 'app': 'models', 'unique_together': (('outcome', 'reason'),), 'pk_attr': 'id', 'table_description': "How many edits were recorded per (outcome, reason), kept in the push's own transaction: /metrics reads"},
            bases=['Model'],
        ),
        # the edits recorded before: counted once here, then by each push
        ops.RunSQL(
            [
                "INSERT INTO edit_tally (outcome, reason, n) "
                "SELECT outcome, reason, COUNT(*) FROM edit GROUP BY outcome, reason",
            ],
            reverse_sql=["DELETE FROM edit_tally"],
        ),
    ]
