//! The component's load shape (Locust's `LoadTestShape`): an instance of
//! its own, asked once a second for the load to run.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::bindings::{LoadTarget, UserTarget};
use crate::run::RunLog;
use crate::user::VirtualUser;

/// Which model a shape drives; its first answer decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeModel {
    Closed,
    Open,
}

/// A load a shape asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    Users { users: u32, spawn_rate: f64 },
    Rate(f64),
    Stop,
}

impl Target {
    /// Checks a shape's answer; `None` for `unshaped` ("no change").
    fn from_guest(answer: LoadTarget) -> Result<Option<Target>, String> {
        Ok(Some(match answer {
            LoadTarget::Unshaped => return Ok(None),
            LoadTarget::Users(UserTarget { users, spawn_rate }) => {
                if spawn_rate.is_nan() || spawn_rate <= 0.0 {
                    return Err(format!("spawn rate {spawn_rate} must be above 0"));
                }
                Target::Users { users, spawn_rate }
            }
            LoadTarget::Rate(rate) if rate >= 0.0 && rate.is_finite() => Target::Rate(rate),
            LoadTarget::Rate(rate) => return Err(format!("rate {rate} must be 0 or more")),
            LoadTarget::Stop => Target::Stop,
        }))
    }

    fn model(self) -> Option<ShapeModel> {
        match self {
            Target::Users { .. } => Some(ShapeModel::Closed),
            Target::Rate(_) => Some(ShapeModel::Open),
            Target::Stop => None,
        }
    }
}

/// A component's shape and the instance that answers for it.
pub struct Shape {
    instance: VirtualUser,
    first: Target,
    model: ShapeModel,
}

impl Shape {
    /// Asks the component for the load at time 0; `None` if it has no shape.
    pub async fn detect(mut instance: VirtualUser) -> Result<Option<Shape>> {
        let answer = instance.shape(Duration::ZERO).await?;
        let Some(first) = Target::from_guest(answer).map_err(anyhow::Error::msg)? else {
            return Ok(None);
        };
        let Some(model) = first.model() else {
            bail!("its shape stops the run before it starts");
        };
        Ok(Some(Shape { instance, first, model }))
    }

    /// The model the shape drives.
    pub fn model(&self) -> ShapeModel {
        self.model
    }

    /// Asks the shape once a second from `started` until `stop`, publishing
    /// each answer. A trap, a bad answer or a change of model ends the run
    /// with one line saying why.
    pub(super) fn drive(
        self,
        started: Instant,
        stop: CancellationToken,
        log: RunLog,
    ) -> watch::Receiver<Target> {
        let Shape { mut instance, first, model } = self;
        let (targets, receiver) = watch::channel(first);
        tokio::spawn(async move {
            let second = Duration::from_secs(1);
            let mut ticks = tokio::time::interval_at((started + second).into(), second);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = stop.cancelled() => return,
                }
                let elapsed = started.elapsed();
                let answer = instance.shape(elapsed).await.map_err(|e| e.to_string());
                let target = match answer.and_then(Target::from_guest) {
                    Ok(None) => continue,
                    Ok(Some(target)) if target.model().is_none_or(|m| m == model) => target,
                    Ok(Some(_)) => {
                        let other = if model == ShapeModel::Closed { "a rate" } else { "users" };
                        ended_early(
                            &log,
                            elapsed,
                            &format!("switched to asking for {other}; a shape drives one model"),
                        );
                        Target::Stop
                    }
                    Err(error) => {
                        ended_early(&log, elapsed, &error);
                        Target::Stop
                    }
                };
                let _ = targets.send(target);
                if target == Target::Stop {
                    return;
                }
            }
        });
        receiver
    }
}

fn ended_early(log: &RunLog, elapsed: Duration, why: &str) {
    log.line(&format!(
        "wasmload: the load shape at {} s: {why}; stopping the run",
        elapsed.as_secs()
    ));
}
