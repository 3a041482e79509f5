from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "patron.sales"
    label = "sales"

    def ready(self) -> None:
        from patron.members import profile
        from patron.promotions.preview import register_example_source
        from patron.sales import audit
        from patron.sales import profile as sales_profile
        from patron.sales.examples import recent_example_lines
        from patron.sales.program import register
        from patron.sales.selectors import member_stats

        register()
        register_example_source(recent_example_lines)
        sales_profile.register()
        audit.register()
        # One query per member: the answer about one member carries it, lists do not.
        profile.add_fact(profile.Fact("stats", member_stats, in_lists=False))
