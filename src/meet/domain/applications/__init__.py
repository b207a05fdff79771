"""Applications: other systems acting for users of allowed email domains, with scoped, short-lived tokens."""
