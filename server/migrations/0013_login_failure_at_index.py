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
    ]
