"""The electronic register service: voters, check-offs, emergency votes."""
