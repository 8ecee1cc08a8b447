//! Files embedded at build time (see `build.rs`): templates, static files, catalogues.
include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
