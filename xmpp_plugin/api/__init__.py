"""The internal comm-plugin API that the ID Contact core and auth plugins call (CONTRACT.md)."""
