"""Readiness scoring (issue 12, CONTRACT §7): will this customer buy a car within 180 days.

Built so far: point-in-time features (`features`) and training examples (`examples`). The
model, its calibration and the reasons come next (docs/scoring.md).
"""
