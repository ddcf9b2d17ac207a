"""The rules: auth, messages, conversations, groups. They speak to store.base and bus.base only."""
