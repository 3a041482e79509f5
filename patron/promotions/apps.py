from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "patron.promotions"
    label = "promotions"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from patron.members import profile
        from patron.promotions import audit, selectors, views
        from patron.promotions.program import register

        register()
        audit.register()
        profile.add_fact(
            profile.Fact("tier", selectors.member_tier_code, prepare=selectors.with_tiers)
        )
        profile.add_panel(profile.Panel("badge", views.tier_badge_panel))
        profile.add_panel(profile.Panel("side", views.member_card_panel, order=20))
        profile.add_column(
            profile.Column(
                name="tier",
                label=gettext_lazy("Tier"),
                prepare=selectors.with_tier_ranks,
                sort_key="tier_rank",
                cell=selectors.member_tier_name,
                order=10,
            )
        )
