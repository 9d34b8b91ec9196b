from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_reminders')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EvidenceGrant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sha256', fields.CharField(db_index=True, max_length=64)),
                ('unit_id', fields.IntField()),
                ('username', fields.CharField(max_length=64)),
                ('size', fields.BigIntField()),
                ('created_ms', fields.BigIntField()),
            ],
            options={'table': 'evidence_grant', 'app': 'models', 'unique_together': (('sha256', 'unit_id'),), 'pk_attr': 'id', 'table_description': 'A unit that sent the whole file and had it hashed (proof of possession): its users, and the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EvidenceUpload',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sha256', fields.CharField(max_length=64)),
                ('username', fields.CharField(max_length=64)),
                ('unit_id', fields.IntField()),
                ('size', fields.BigIntField()),
                ('mime', fields.CharField(max_length=64)),
                ('received', fields.BigIntField(default=0)),
                ('created_ms', fields.BigIntField()),
                ('updated_ms', fields.BigIntField(db_index=True)),
            ],
            options={'table': 'evidence_upload', 'app': 'models', 'unique_together': (('sha256', 'username'),), 'pk_attr': 'id', 'table_description': "One user's upload in progress of one file: the bytes go to a partial file of its own, so a start"},
            bases=['Model'],
        ),
        # Files stored before this migration were sent whole by their uploader: that unit keeps read
        # access. Uploads in progress from before (one shared row per file) are dropped: phones ask the
        # status and start again from byte 0 (their old partial bytes under partial/<sha> are not read).
        ops.RunSQL(
            [
                "INSERT INTO evidence_grant (sha256, unit_id, username, size, created_ms) "
                "SELECT sha256, unit_id, uploaded_by, size, created_ms FROM evidence WHERE complete",
                "DELETE FROM evidence WHERE NOT complete",
            ],
            reverse_sql=["DELETE FROM evidence_grant"],
        ),
    ]
