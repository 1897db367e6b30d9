//! A sensor on an MQTT broker: readings at QoS 0, alarms at QoS 1, audit
//! records at QoS 2, each publish one event timed to its acknowledgement;
//! and a command it sends to its own topic and waits to receive, the
//! round trip timed as a custom event.
//!
//! Run with `--host mqtt://127.0.0.1:1883`.

use std::time::Duration;

use wasmload_sdk::mqtt::Qos;
use wasmload_sdk::prelude::*;

struct Sensor {
    broker: mqtt::Connection,
    commands: String,
}

impl User for Sensor {
    fn class() -> Class<Self> {
        Class::new("sensor")
            .wait(Wait::constant(Duration::from_millis(wait_ms())))
            .task(Task::new("reading", Self::reading).weight(4))
            .task(Task::new("alarm", Self::alarm).weight(2))
            .task(Task::new("audit", Self::audit))
            .task(Task::new("command", Self::command))
    }

    fn on_start() -> Result<Self> {
        let mut broker = mqtt::connect("")?;
        let commands = format!("commands/{}", context::user_id());
        let granted = broker.subscribe(&commands, Qos::AtLeastOnce)?;
        ensure(granted == Qos::AtLeastOnce, "the broker granted another QoS")?;
        Ok(Sensor { broker, commands })
    }

    fn on_stop(&mut self) -> Result<()> {
        self.broker.disconnect()?;
        Ok(())
    }
}

/// `-e WAIT_MS=...`: the pause after each task (default 100 ms).
fn wait_ms() -> u64 {
    context::param_or("WAIT_MS", "100").parse().unwrap_or(100)
}

impl Sensor {
    fn reading(&mut self) -> Result<()> {
        let value = format!("{}.{}", 15 + context::random_range(0, 10), context::random_range(0, 10));
        self.broker.publish("sensors/temperature", value.as_bytes(), Qos::AtMostOnce)?;
        Ok(())
    }

    fn alarm(&mut self) -> Result<()> {
        self.broker.publish("sensors/alarm", b"door open", Qos::AtLeastOnce)?;
        Ok(())
    }

    fn audit(&mut self) -> Result<()> {
        self.broker.publish("sensors/audit", b"checked", Qos::ExactlyOnce)?;
        Ok(())
    }

    fn command(&mut self) -> Result<()> {
        let topic = self.commands.clone();
        let broker = &mut self.broker;
        events::time("mqtt", "command round trip", || -> Result<u64> {
            broker.publish_named("command", &topic, b"calibrate", Qos::AtLeastOnce)?;
            let command = broker.receive()?;
            ensure(command.payload == b"calibrate", "another command came back")?;
            Ok(command.payload.len() as u64)
        })?;
        Ok(())
    }
}

wasmload_sdk::users!(Sensor);
