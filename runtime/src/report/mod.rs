//! Renderers of a run's results. Each takes finished data and knows nothing
//! of how it was gathered.

pub mod csv;
pub mod html;
pub mod json;
pub mod live;
pub mod prometheus;
pub mod table;
pub mod thresholds;
