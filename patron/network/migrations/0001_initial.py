# The network app starts empty: each part adds its tables in its own migration after this one.
from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations: list = []
