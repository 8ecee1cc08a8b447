//! Embeds templates, static files and translation catalogues in the binary, so a
//! release build runs from any working directory, and tells cargo to rebuild when
//! migrations change (`sqlx::migrate!` does not notice new files by itself).
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn embed(root: &str, const_name: &str, code: &mut String) {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let base = manifest.join(root);
    let mut files = Vec::new();
    files_under(&base, &mut files);
    files.sort();
    writeln!(code, "pub const {const_name}: &[(&str, &str)] = &[").expect("write to String");
    for file in files {
        let name = file.strip_prefix(&base).expect("file is under its root").to_string_lossy().replace('\\', "/");
        writeln!(code, "    ({name:?}, include_str!({:?})),", file.display().to_string()).expect("write to String");
    }
    writeln!(code, "];").expect("write to String");
    println!("cargo:rerun-if-changed={root}");
}

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let mut code = String::new();
    embed("templates", "TEMPLATES", &mut code);
    embed("static", "STATIC_FILES", &mut code);
    embed("locales", "LOCALES", &mut code);
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded.rs");
    std::fs::write(out, code).expect("write embedded.rs");
}
