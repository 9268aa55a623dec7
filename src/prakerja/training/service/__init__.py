"""The marketplace's use cases (what the routes, jobs and other domains call). Takes a session; never commits.

- ``purchases``: section 1 (inquiry, purchase with a one-time code, confirm, cancel, read), the code-expiry and
  first-purchase-deadline jobs;
- ``delivery``: vouchers, redeem codes and attendance, sessions cancelled by the program;
- ``completions``: completion, review, capture and certificates, platform agreements;
- ``settlement``: statements per partner and period;
- ``overview``: what an institution's or a platform's portal shows (read only);
- ``ratings``: ratings and reviews, the participant's trainings;
- ``events``: the one call site for webhook events (refused partner calls are logged by ``partners``);
- ``people``: the one module that reads people from other domains;
- ``incentives``: what payouts reads about the first training (certificate, rating, review) and spending."""

from prakerja.training.service import (
    completions,
    delivery,
    events,
    incentives,
    overview,
    people,
    purchases,
    ratings,
    settlement,
)

__all__ = [
    "completions",
    "delivery",
    "events",
    "incentives",
    "overview",
    "people",
    "purchases",
    "ratings",
    "settlement",
]
