"""Preset dictionaries for compressed documents (zlib's `zdict`, ADR 0025).

A document of a few hundred bytes compresses badly on its own: its field names and usual values
are new to the compressor every time. Given a dictionary of them, zlib refers back into it, and
the car record (written by nearly every car event, read by the daily job) shrinks by a third, so
it stays well inside the one kilobyte a write unit buys.

A stream written with a dictionary names it (the FDICT flag and the dictionary's Adler-32 in its
header), so every dictionary here is fixed for ever: a better one is added under a new name and
listed in `KNOWN`, never edited; streams written without one read as before.
"""

import zlib

# The car record (`Vehicle` as stored): its field names and common values, the most frequent
# last (zlib's nearer matches are cheaper). The values are placeholders, never data.
CAR_RECORD_V1 = (
    '{"vin":"XW8ZZZ61ZKG000000","make":"Kia","model":"Rio","trim":"Comfort","year":2023,'
    '"plate":"А000АА116","purchased_on":"2023-01-01",'
    '"sales":[{"deal_id":"D-","customer_id":"cus_01","sold_at":"2023-01-01T12:00:00+03:00",'
    '"price":1000000.0,"currency":"RUB","condition":"used","mileage_km":10,'
    '"financing":{"type":"leasing","term_months":36,"monthly_payment":10000.0,'
    '"ends_on":"2026-01-01"},"location_id":"","salesperson":""}],'
    '"condition":"new","financing":{"type":"loan",'
    '"insurance":[{"policy_id":"","kind":"kasko","ends_on":"2027-01-01","customer_id":"cus_01"}],'
    '{"policy_id":"XXX-","kind":"osago","ends_on":"2027-'
    '"schedule":{"tyre_season":"","insurance_renewal":"","warranty_end":"","financing_end":"",'
    '"car_age_trade_in":""},'
    '"due_start":{"journey_id":"maintenance_reminder","key":"XW8ZZZ61ZKG000000:maintenance:2",'
    '"customer_id":"cus_01","vin":"","fire_on":"2027-01-01","due_on":"2027-01-01",'
    '"details":{"number":2,"service":"ТО-2 (30 000 км)","due_km":30000,"due_on":"2027-01-01",'
    '"by":"km","overdue":true}}}'
    '"by":"time","overdue":false}}}'
    '"stamps":{"make":"","model":"","trim":"","year":"","plate":"","policy.'
    '"last_service_at":"2026-01-01T12:00:00+03:00",'
    '"last_maintenance_at":"2026-01-01T12:00:00+03:00",'
    '"owners":[{"customer_id":"dealer","since":"2023-01-01T12:00:00+03:00","via":"trade_in",'
    '"ref":"D-"},{"customer_id":"cus_01","since":"2023-01-01T12:00:00+03:00",'
    '"via":"registration"},{"customer_id":"cus_01","since":"2023-01-01T12:00:00+03:00",'
    '"via":"service","ref":"RO-"},{"customer_id":"cus_01","since":"2023-"via":"sale","ref":"D-'
    '"readings":[{"at":"2023-01-01T12:00:00+03:00","km":10,"source":"registration"},'
    '{"at":"2024-01-01T12:00:00+03:00","km":10000,"source":"manual"},'
    '{"at":"2025-01-01T12:00:00+03:00","km":20000,"source":"telematics"},'
    '{"at":"2025-01-01T12:00:00+03:00","km":20000,"source":"sale"},'
    '{"at":"2026-01-01T12:00:00Z","km":30000,"source":"service_order"},'
    '{"at":"2026-01-01T10:00:00+03:00","km":30000,"source":"service_order"}'
).encode()

KNOWN = {zlib.adler32(d): d for d in (CAR_RECORD_V1,)}


def compress(text: str, dictionary: bytes | None = None) -> bytes:
    if dictionary is None:
        return zlib.compress(text.encode(), 6)
    packer = zlib.compressobj(6, zdict=dictionary)
    return packer.compress(text.encode()) + packer.flush()


def dictionary_of(data: bytes) -> bytes | None:
    """The dictionary a stored stream was written with (its header names it), if any."""
    if len(data) > 6 and data[1] & 0x20:  # FDICT: the dictionary's Adler-32 follows
        return KNOWN[int.from_bytes(data[2:6], "big")]
    return None


def decompress(data: bytes) -> str:
    """Any stored document: plain zlib, or zlib with the dictionary its header names."""
    dictionary = dictionary_of(data)
    if dictionary is None:
        return zlib.decompress(data).decode()
    unpacker = zlib.decompressobj(zdict=dictionary)
    return (unpacker.decompress(data) + unpacker.flush()).decode()
