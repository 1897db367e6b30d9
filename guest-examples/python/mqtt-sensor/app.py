"""A sensor on an MQTT broker: readings at QoS 0, alarms at QoS 1, audit
records at QoS 2, each publish one event timed to its acknowledgement; and
a command it sends to its own topic and waits to receive, the round trip
timed as a custom event.

Run with `--host mqtt://127.0.0.1:1883`; `-e WAIT_MS=...` is the pause
after each task (default 100).
"""

from wasmload import User, constant, context, events, mqtt, task, users


class Sensor(User):
    name = "sensor"

    @staticmethod
    def wait_time():
        return constant(int(context.param("WAIT_MS", "100")) / 1000)

    def on_start(self):
        self.broker = mqtt.connect()
        self.commands = f"commands/{context.user_id()}"
        granted = self.broker.subscribe(self.commands, qos=1)
        assert granted == 1, "the broker granted another QoS"

    def on_stop(self):
        self.broker.disconnect()

    @task(4)
    def reading(self):
        value = f"{15 + context.random_range(0, 10)}.{context.random_range(0, 10)}"
        self.broker.publish("sensors/temperature", value, qos=0)

    @task(2)
    def alarm(self):
        self.broker.publish("sensors/alarm", b"door open", qos=1)

    @task
    def audit(self):
        self.broker.publish("sensors/audit", b"checked", qos=2)

    @task
    def command(self):
        with events.timer("mqtt", "command round trip") as timed:
            self.broker.publish(self.commands, b"calibrate", qos=1, name="command")
            command = self.broker.receive()
            assert command.payload == b"calibrate", "another command came back"
            timed.length = len(command.payload)


Behaviour = users(Sensor)
