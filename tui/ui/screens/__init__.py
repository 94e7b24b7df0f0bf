"""The console's screens: the call screen (the main one), the dial form, help and confirmations."""
