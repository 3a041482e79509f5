from django.db import models


class IdempotencyRecord(models.Model):
    """The stored answer to a write sent with an `Idempotency-Key` (API.md §3).

    The row is inserted in the same transaction as the write it guards, so a concurrent retry
    with the same key waits on the unique index and then replays the committed answer.
    """

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)
    content_type = models.CharField(max_length=100, default="application/json")
    response_body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "key"], name="uniq_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
