"""minutes_live"""
