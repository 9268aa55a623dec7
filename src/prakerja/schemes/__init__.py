"""Program parameters by scheme: dated data with the regulation each implements."""
