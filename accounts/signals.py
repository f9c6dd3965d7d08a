"""Sign-out removes every server-side token of the user (SECURITY.md case 60).

Django's logout() sends user_logged_out and then flushes the session, which holds the
console's tokens; allauth's stored provider tokens (if SOCIALACCOUNT_STORE_TOKENS is ever
turned on) are deleted here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver


@receiver(user_logged_out)
def delete_tokens_on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    from allauth.socialaccount.models import SocialToken

    SocialToken.objects.filter(account__user=user).delete()
