def staff_context(request) -> dict:
    staff = getattr(request, "staff", None)
    return {
        "staff": staff,
        "merchant": staff.merchant if staff else None,
    }
