"""Refusals of the portals' own forms (the domains' refusals keep their codes)."""

from prakerja.kit.errors import ValidationFailed


class ListingInvalid(ValidationFailed):
    code = "listing_invalid"
    message = "Data penawaran tidak valid."
    message_en = "The listing is not valid."
