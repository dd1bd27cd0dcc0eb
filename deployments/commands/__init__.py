"""Sub-commands of `nxt`, one module per group (`nxt db`, `nxt blocks`, `nxt sandbox`, ...)."""
