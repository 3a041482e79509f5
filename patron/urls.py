from django.urls import include, path

from patron.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Before "members/": the import pages live under it with their own namespace.
    path("members/import/", include("patron.members.import_urls")),
    path("members/", include("patron.members.urls")),
    path("ledger/", include("patron.wallet.urls")),
    path("ledger/", include("patron.ledger.urls")),
    path("promotions/", include("patron.promotions.urls")),
    path("program/", include("patron.program.urls")),
    path("cashier/", include("patron.sales.urls")),
    path("catalogue/", include("patron.catalogue.urls")),
    path("shifts/", include("patron.shifts.urls")),
    path("card-products/", include("patron.cards.product_urls")),
    path("cards/", include("patron.cards.urls")),
    path("tiers/", include("patron.cards.tier_urls")),
    path("memberships/", include("patron.cards.membership_urls")),
    path("units/", include("patron.cards.unit_urls")),
    path("segments/", include("patron.insight.segment_urls")),
    path("reports/", include("patron.insight.report_urls")),
    path("insight/rfm/", include("patron.insight.rfm_urls")),
    path("insight/value/", include("patron.insight.value_urls")),
    path("insight/due/", include("patron.insight.due_urls")),
    path("feedback/", include("patron.insight.feedback_urls")),
    path("campaigns/hooks/", include("patron.campaigns.hook_urls")),
    path("campaigns/", include("patron.campaigns.urls")),
    path("message-templates/", include("patron.campaigns.template_urls")),
    path("webhooks/", include("patron.events.webhook_urls")),
    path("m/", include("patron.portal.urls")),
    path("portal/", include("patron.portal.console_urls")),
    path("", include("patron.home.urls")),
    path("", include("patron.tenancy.urls")),
]
