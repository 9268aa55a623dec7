"""SMS and e-mail through a sender interface; delivered by a job written with the change that causes it."""
