"""The cache outbox: keys whose cached entries must go, written by the triggers of 0003
in the writer's transaction and drained into Redis by every serving process
(businesses/cache_outbox.py, docs/cache.md). A new table, so no traffic waits on it."""

import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("businesses", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="CacheOutboxEntry",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("keyspace", models.CharField(max_length=32)),
                ("key", models.BigIntegerField()),
                (
                    "created_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
            ],
            options={
                "verbose_name_plural": "cache outbox entries",
                "db_table": "cache_outbox",
            },
        ),
    ]
