"""The `plc-bridge` command line."""
