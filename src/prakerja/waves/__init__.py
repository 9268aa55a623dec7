"""Waves (gelombang): states, quotas per stratum, priority tiers, joining and closing."""
