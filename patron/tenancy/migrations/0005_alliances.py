# Card number prefixes unique per merchant (F-42, tenancy.cardprefix).

from django.db import migrations, models


def distinct_prefixes(apps, schema_editor):
    """The first merchant keeps its prefix; every later one sharing a prefix gets the next free
    one of the series for its FUTURE cards (numbers already issued never change)."""
    from patron.tenancy.cardprefix import next_prefix

    Merchant = apps.get_model("tenancy", "Merchant")
    taken: set[str] = set()
    for merchant in Merchant.objects.order_by("pk"):
        prefix = merchant.card_prefix or "8"
        if prefix in taken:
            prefix = next_prefix(taken)
            Merchant.objects.filter(pk=merchant.pk).update(card_prefix=prefix)
        taken.add(prefix)


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0004_merchant_card_prefix"),
    ]

    operations = [
        migrations.RunPython(distinct_prefixes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="merchant",
            name="card_prefix",
            field=models.CharField(max_length=6, unique=True, verbose_name="card number prefix"),
        ),
    ]
