"""Outside systems registration talks to: the civil registry (Dukcapil)."""
