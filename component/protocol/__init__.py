"""Our XMPP extension (docs/protocol.md): stanza classes apart from the code that handles them."""
