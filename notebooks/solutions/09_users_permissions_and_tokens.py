# One answer to the exercise of 09_users_permissions_and_tokens.ipynb: paste it into the
# exercise cell.
def auditor_permissions(shop_id: int) -> Permissions:
    """Poll the shop stream (id ``shop_id``); nothing else anywhere."""
    return Permissions(streams={shop_id: StreamPermissions(poll_messages=True)})
