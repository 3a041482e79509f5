from django.db import migrations, models

CHUNK = 2000


def fill_name_pinyin(apps, schema_editor):
    """Members registered before the column existed get their names' pinyin."""
    from patron.members.pinyin import name_pinyin

    Member = apps.get_model("members", "Member")
    named = Member.objects.exclude(name="").order_by("pk").only("pk", "name")
    batch = []
    for member in named.iterator(chunk_size=CHUNK):
        member.name_pinyin = name_pinyin(member.name)
        batch.append(member)
        if len(batch) == CHUNK:
            Member.objects.bulk_update(batch, ["name_pinyin"])
            batch = []
    Member.objects.bulk_update(batch, ["name_pinyin"])


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0003_member_tier"),
    ]

    operations = [
        migrations.AddField(
            model_name="member",
            name="name_pinyin",
            field=models.CharField(blank=True, default="", editable=False, max_length=200),
        ),
        migrations.RunPython(fill_name_pinyin, migrations.RunPython.noop, elidable=True),
    ]
