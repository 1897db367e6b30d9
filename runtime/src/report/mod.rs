//! Renderers of a run's results. Each takes finished data and knows nothing
//! of how it was gathered.

pub mod compare;
pub mod csv;
pub mod html;
pub mod json;
pub mod junit;
pub mod live;
pub mod prometheus;
pub mod remote_write;
pub mod table;
pub mod thresholds;
