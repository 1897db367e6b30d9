//! `wasmload inspect`: what a component offers and what it asks for, so an
//! operator can decide before running it.

use std::fmt::Write as _;
use std::sync::Arc;

use anyhow::Result;

use crate::cli::InspectArgs;
use crate::engine::UserComponent;
use crate::run::{inspect_component, sandbox, BadInput, ComponentInfo, RunLog, RunSetting};
use crate::sandbox::{Grant, Sandbox};

/// Prints the component's imports (granted or not) and its user classes.
pub async fn inspect(args: InspectArgs) -> Result<()> {
    let shown = args.component.display().to_string();
    let sandbox = sandbox(&args.guest, true).await.map_err(BadInput)?;
    let component = UserComponent::load_file(
        &args.component,
        1,
        sandbox.max_memory,
        args.local.compile_cache().as_deref(),
    )
    .map_err(BadInput)?;
    let setting = RunSetting {
        name: shown.clone(),
        log: RunLog::stderr(),
        ca_files: args.local.ca_cert.clone(),
        trust_host_addresses: true,
        segment: crate::scheduler::Segment::WHOLE,
        local_ips: crate::run::LocalIps::default(),
    };
    let info =
        inspect_component(Arc::new(component), &args.guest, &setting).await.map_err(BadInput)?;
    print!("{}", render(&shown, &info, &sandbox));
    Ok(())
}

fn render(shown: &str, info: &ComponentInfo, sandbox: &Sandbox) -> String {
    let mut text = format!("{shown}\n\nImports (capabilities):\n");
    for import in &info.imports {
        let grant = match sandbox.grant(import) {
            Grant::Default => "granted",
            Grant::Flag => "granted by --allow-import",
            Grant::Denied => "DENIED: `run` refuses this component without --allow-import",
        };
        let _ = writeln!(text, "  {import:<44} {grant}");
    }
    text.push_str("\nUser classes:\n");
    for class in &info.classes {
        let share = match class.fixed_count {
            Some(count) => format!("fixed count {count}"),
            None => format!("weight {}", class.weight),
        };
        let _ = writeln!(text, "  {} ({share}, wait: {})", class.name, class.wait);
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
