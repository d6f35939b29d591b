"""Data credit: seller profiles, fraud signals, limits and claim prices."""
