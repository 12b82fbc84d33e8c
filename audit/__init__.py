"""The account security baseline: `opsbundle audit` and the weekly audit Lambda."""
