"""The peer of http-hammer: each user GETs / with no wait (FastHttpUser,
Locust's fastest client). WAIT_S sets a constant wait for the memory
benchmark."""

import os

from locust import FastHttpUser, constant, task


class Hammer(FastHttpUser):
    wait_time = constant(float(os.environ.get("WAIT_S", "0")))

    @task
    def get(self):
        self.client.get("/")
