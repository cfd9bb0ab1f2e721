"""Owners' votes: the owner register, ballots, SMS and other-channel votes, tallies by law."""
