"""One module per stanza family; each registers its own handlers on the gateway."""
