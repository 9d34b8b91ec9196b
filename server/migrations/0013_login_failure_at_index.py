from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0012_procedures')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='LoginFailure',
            name='at',
            field=fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True),
        ),
        # On SQLite, AlterField rebuilds the table and its indexes are lost: both are made here, under the
        # names generate_schemas gives them (IF NOT EXISTS: PostgreSQL already has them).
        ops.RunSQL(
            [
                'CREATE INDEX IF NOT EXISTS "idx_login_failu_key_2c4272" ON "login_failure" ("key")',
                'CREATE INDEX IF NOT EXISTS "idx_login_failu_at_ce3ac2" ON "login_failure" ("at")',
            ],
            reverse_sql=[],
        ),
    ]
