from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "patron.sales"
    label = "sales"

    def ready(self) -> None:
        from patron.catalogue.selectors import register_sales_ranking
        from patron.members import profile
        from patron.promotions.preview import register_example_source
        from patron.sales import audit
        from patron.sales import profile as sales_profile
        from patron.sales.examples import recent_example_lines
        from patron.sales.program import register
        from patron.sales.selectors import best_selling_skus, member_stats

        register()
        register_example_source(recent_example_lines)
        sales_profile.register()
        audit.register()
        # One query per member: the answer about one member carries it, lists do not.
        profile.add_fact(profile.Fact("stats", member_stats, in_lists=False))
        # The till's favourites grid: what the store sold most (the catalogue cannot read sales).
        register_sales_ranking(best_selling_skus)
