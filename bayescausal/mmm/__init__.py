"""Marketing-mix models on pymc-marketing: spend -> response, posterior ROAS, budget allocation, calibration."""
