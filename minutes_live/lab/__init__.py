"""The lab wing: experiments (what-if, history windows) and their reports."""
