"""ID Chat's XMPP external component (XEP-0114): rooms, claim, routing, offers, attribute delivery."""
