//! Write wasmload virtual users in Rust.
//!
//! A component built with this crate is one virtual user: wasmload runs
//! thousands of instances of it, does every network call on its behalf and
//! records each call in the stats. A user reads like this:
//!
//! ```no_run
//! use std::time::Duration;
//! use wasmload_sdk::prelude::*;
//!
//! struct Browser;
//!
//! impl User for Browser {
//!     fn class() -> Class<Self> {
//!         Class::new("browser")
//!             .wait(Wait::between(Duration::from_millis(500), Duration::from_secs(2)))
//!             .task(Task::new("home", Self::home).weight(3))
//!             .task(Task::new("about", Self::about))
//!     }
//!
//!     fn on_start() -> Result<Self> {
//!         Ok(Browser)
//!     }
//! }
//!
//! impl Browser {
//!     fn home(&mut self) -> Result<()> {
//!         http::get("/").send()?;
//!         Ok(())
//!     }
//!
//!     fn about(&mut self) -> Result<()> {
//!         http::get("/about").send()?.expect_status(200)?;
//!         Ok(())
//!     }
//! }
//!
//! wasmload_sdk::users!(Browser);
//! ```

// Lets generated code name this crate the same way inside and outside it.
extern crate self as wasmload_sdk;

pub mod context;
mod error;
pub mod events;
pub mod grpc;
pub mod http;
pub mod mqtt;
pub mod postgres;
pub mod rest;
pub mod shape;
pub mod tcp;
pub mod udp;
mod user;
pub mod websocket;
pub mod xmlrpc;

pub use error::{ensure, Error, Result};
pub use shape::{Load, Shape};
pub use user::{Class, Task, User, Wait};

/// A duration in the contract's whole microseconds, saturating.
pub(crate) fn micros(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// Everything a user module usually needs.
pub mod prelude {
    pub use crate::rest::rest;
    pub use crate::{
        context, ensure, events, grpc, http, mqtt, postgres, tcp, udp, websocket, xmlrpc, Class,
        Error, Load, Result, Shape, Task, User, Wait,
    };
}

/// Raw bindings generated from `wit/`; users need not touch them.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "user",
        pub_export_macro: true,
        default_bindings_module: "wasmload_sdk::bindings",
        runtime_path: "wasmload_sdk::__private::wit_bindgen::rt",
    });
}

/// Support for the [`users!`] macro; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::exports::wasmload::user::behaviour::{Guest, LoadTarget, UserClass};
    pub use crate::shape::tick as shape_tick;
    pub use crate::user::{describe, on_start, on_stop, run_task, ErasedClass};
    pub use wit_bindgen;
}

/// Exports the given user types as this component's user classes, and
/// optionally a [`Shape`] that sets the load over time.
///
/// ```ignore
/// wasmload_sdk::users!(Shopper, Admin);
/// wasmload_sdk::users!(Shopper, Admin; shape = Spike);
/// ```
#[macro_export]
macro_rules! users {
    ($($user:ty),+ $(,)?) => {
        $crate::users!(@export [$($user),+] |_run_time_us| $crate::__private::LoadTarget::Unshaped);
    };
    ($($user:ty),+ ; shape = $shape:ty) => {
        $crate::users!(@export [$($user),+] $crate::__private::shape_tick::<$shape>);
    };
    (@export [$($user:ty),+] $shape:expr) => {
        struct __WasmloadUsers;

        ::std::thread_local! {
            /// The classes, made once per instance: each keeps its tasks
            /// from `describe` for the start.
            static __WASMLOAD_CLASSES: ::std::vec::Vec<::std::boxed::Box<dyn $crate::__private::ErasedClass>> =
                ::std::vec![$($crate::Class::<$user>::erased()),+];
        }

        impl $crate::__private::Guest for __WasmloadUsers {
            fn describe() -> ::std::vec::Vec<$crate::__private::UserClass> {
                __WASMLOAD_CLASSES.with(|classes| $crate::__private::describe(classes))
            }

            fn on_start(class: u32) -> ::std::result::Result<(), ::std::string::String> {
                __WASMLOAD_CLASSES.with(|classes| $crate::__private::on_start(classes, class))
            }

            fn run_task(task: u32) -> ::std::result::Result<(), ::std::string::String> {
                $crate::__private::run_task(task)
            }

            fn on_stop() -> ::std::result::Result<(), ::std::string::String> {
                $crate::__private::on_stop()
            }

            fn shape(run_time_us: u64) -> $crate::__private::LoadTarget {
                ($shape)(run_time_us)
            }
        }

        $crate::bindings::export!(__WasmloadUsers with_types_in $crate::bindings);
    };
}
