// A sensor on an MQTT broker: readings at QoS 0, alarms at QoS 1, audit
// records at QoS 2, each publish one event timed to its acknowledgement;
// and a command it sends to its own topic and waits to receive, the round
// trip timed as a custom event.
//
// Run with `--host mqtt://127.0.0.1:1883`; `-e WAIT_MS=...` is the pause
// after each task (default 100).

import { constant, context, events, fromUtf8, mqtt, users } from "wasmload";

export const behaviour = users({
  name: "sensor",
  wait: () => constant(Number(context.param("WAIT_MS", "100")) / 1000),

  onStart() {
    this.broker = mqtt.connect();
    this.commands = `commands/${context.userId()}`;
    if (this.broker.subscribe(this.commands, 1) !== 1) throw new Error("the broker granted another QoS");
  },

  onStop() {
    this.broker.disconnect();
  },

  tasks: {
    reading: {
      weight: 4,
      run() {
        const value = `${15 + context.randomRange(0, 10)}.${context.randomRange(0, 10)}`;
        this.broker.publish("sensors/temperature", value, 0);
      },
    },
    alarm: {
      weight: 2,
      run() {
        this.broker.publish("sensors/alarm", "door open", 1);
      },
    },
    audit() {
      this.broker.publish("sensors/audit", "checked", 2);
    },
    command() {
      events.time("mqtt", "command round trip", () => {
        this.broker.publish(this.commands, "calibrate", 1, { name: "command" });
        const command = this.broker.receive();
        if (fromUtf8(command.payload) !== "calibrate") throw new Error("another command came back");
        return command.payload;
      });
    },
  },
});
