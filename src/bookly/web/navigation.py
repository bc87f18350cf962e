"""The links of the signed-in visitor's menu in the header. Pages of the site add theirs here."""

from dataclasses import dataclass

from bookly.auth.caller import Account
from bookly.models import Role


@dataclass(frozen=True)
class MenuItem:
    label: str
    # Formatted with the visitor's account: "/users/{uid}".
    href: str
    admins_only: bool = False


USER_MENU: list[MenuItem] = [
    MenuItem("Your profile", "/users/{uid}"),
    MenuItem("Add a book", "/books/new"),
    MenuItem("Your sessions", "/account/sessions"),
    MenuItem("Change password", "/account/password"),
    MenuItem("Administration", "/admin/users", admins_only=True),
]


def menu_for(account: Account) -> list[tuple[str, str]]:
    """(label, href) of the menu items this account sees."""
    return [
        (item.label, item.href.format(uid=account.uid))
        for item in USER_MENU
        if not item.admins_only or account.role == Role.ADMIN
    ]
