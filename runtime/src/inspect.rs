//! `wasmload inspect`: what a component offers and what it asks for, so an
//! operator can decide before running it.

use std::fmt::Write as _;
use std::sync::Arc;

use anyhow::{Context as _, Result};

use crate::bindings::{UserClass, WaitTime};
use crate::cli::InspectArgs;
use crate::engine::UserComponent;
use crate::run::{describe, sandbox, services, BadInput};
use crate::sandbox::{Grant, Sandbox};
use crate::stats::Recorder;

/// Prints the component's imports (granted or not) and its user classes.
pub async fn inspect(args: InspectArgs) -> Result<()> {
    let shown = args.component.display().to_string();
    let sandbox = Arc::new(sandbox(&args.guest).await?);
    let component = UserComponent::load(
        &args.component,
        1,
        sandbox.max_memory,
        args.guest.compile_cache().as_deref(),
    )
    .map_err(BadInput)?;
    let services = services(&args.guest, Arc::clone(&sandbox), Recorder::new())?;
    let (_, classes) = describe(&component, &services)
        .await
        .with_context(|| format!("{shown}: describe() failed"))
        .map_err(BadInput)?;
    print!("{}", render(&shown, component.imports(), &sandbox, &classes));
    Ok(())
}

fn render(shown: &str, imports: &[String], sandbox: &Sandbox, classes: &[UserClass]) -> String {
    let mut text = format!("{shown}\n\nImports (capabilities):\n");
    for import in imports {
        let grant = match sandbox.grant(import) {
            Grant::Default => "granted",
            Grant::Flag => "granted by --allow-import",
            Grant::Denied => "DENIED: `run` refuses this component without --allow-import",
        };
        let _ = writeln!(text, "  {import:<44} {grant}");
    }
    text.push_str("\nUser classes:\n");
    for class in classes {
        let share = match class.fixed_count {
            Some(count) => format!("fixed count {count}"),
            None => format!("weight {}", class.weight),
        };
        let _ = writeln!(text, "  {} ({share}, wait: {})", class.name, wait(&class.wait));
        for task in &class.tasks {
            let tags = if task.tags.is_empty() {
                String::new()
            } else {
                format!(", tags: {}", task.tags.join(", "))
            };
            let _ = writeln!(text, "    task {} (weight {}{tags})", task.name, task.weight);
        }
    }
    text
}

fn wait(wait: &WaitTime) -> String {
    let ms = |us: u64| format!("{} ms", us as f64 / 1000.0);
    match *wait {
        WaitTime::None => "none".into(),
        WaitTime::Constant(us) => format!("constant {}", ms(us)),
        WaitTime::Between((min, max)) => format!("between {} and {}", ms(min), ms(max)),
        WaitTime::ConstantPacing(us) => format!("one task per {}", ms(us)),
        WaitTime::ConstantThroughput(rate) => format!("{rate} tasks per second"),
    }
}
