//! A Redis client written in the guest: RESP over a raw TCP connection,
//! each command timed as its own event (type `redis`), the way a custom
//! protocol reports to wasmload.
//!
//! Run with `--host tcp://127.0.0.1:6379`.

use wasmload_sdk::prelude::*;

struct RedisUser {
    connection: tcp::Connection,
    key: String,
}

/// A RESP reply.
#[derive(Debug, PartialEq)]
enum Reply {
    Simple(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
}

impl User for RedisUser {
    fn class() -> Class<Self> {
        Class::new("redis")
            .task(Task::new("ping", Self::ping))
            .task(Task::new("set", Self::set).weight(2))
            .task(Task::new("get", Self::get).weight(3))
    }

    fn on_start() -> Result<Self> {
        let address = context::host_address().ok_or("set --host tcp://host:port")?;
        let connection = tcp::connect(&address)?;
        let key = format!("wasmload:user:{}", context::user_id());
        let mut user = RedisUser { connection, key };
        // Every GET finds a value, even before this user's first SET.
        user.command("SET", &["SET", &user.key.clone(), "0"])?;
        Ok(user)
    }
}

impl RedisUser {
    fn ping(&mut self) -> Result<()> {
        let reply = self.command("PING", &["PING"])?;
        ensure(reply == Reply::Simple("PONG".into()), "PING did not PONG")
    }

    fn set(&mut self) -> Result<()> {
        let value = context::random_range(0, 1_000_000).to_string();
        let key = self.key.clone();
        let reply = self.command("SET", &["SET", &key, &value])?;
        ensure(reply == Reply::Simple("OK".into()), "SET was refused")
    }

    fn get(&mut self) -> Result<()> {
        let key = self.key.clone();
        let reply = self.command("GET", &["GET", &key])?;
        ensure(matches!(reply, Reply::Bulk(Some(_))), "GET found no value")
    }

    /// Sends one command and reads its reply, timed as one `redis` event;
    /// a Redis error reply is a failed event.
    fn command(&mut self, name: &str, parts: &[&str]) -> Result<Reply> {
        let connection = &mut self.connection;
        let timer = events::Timer::start("redis", name);
        let outcome = send_command(connection, parts).and_then(|()| read_reply(connection));
        match &outcome {
            Ok((_, length)) => timer.success(*length),
            Err(error) => timer.failure(&error.to_string()),
        }
        outcome.map(|(reply, _)| reply)
    }
}

fn send_command(connection: &mut tcp::Connection, parts: &[&str]) -> Result<()> {
    let mut message = format!("*{}\r\n", parts.len());
    for part in parts {
        message.push_str(&format!("${}\r\n{part}\r\n", part.len()));
    }
    Ok(connection.send(message.as_bytes())?)
}

/// Reads one reply; also returns how many bytes it took.
fn read_reply(connection: &mut tcp::Connection) -> Result<(Reply, u64)> {
    let line = connection.receive_until(b"\r\n")?;
    let mut length = line.len() as u64;
    let text = String::from_utf8_lossy(&line[..line.len() - 2]).into_owned();
    let (kind, rest) = text.split_at(1.min(text.len()));
    let reply = match kind {
        "+" => Reply::Simple(rest.to_owned()),
        "-" => return Err(Error::msg(format!("redis error: {rest}"))),
        ":" => Reply::Integer(rest.parse().map_err(|_| Error::msg("bad integer reply"))?),
        "$" => match rest.parse::<i64>() {
            Ok(-1) => Reply::Bulk(None),
            Ok(size) if size >= 0 => {
                let body = connection.receive_exact(size as usize + 2)?;
                length += body.len() as u64;
                Reply::Bulk(Some(body[..size as usize].to_vec()))
            }
            _ => return Err(Error::msg("bad bulk length")),
        },
        other => return Err(Error::msg(format!("unsupported reply type {other:?}"))),
    };
    Ok((reply, length))
}

wasmload_sdk::users!(RedisUser);
