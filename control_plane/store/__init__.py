"""The event store and what sits next to it: connections, schema migrations, followers, the
hash chain, export and import."""
